// One line of the benchmark table: a figure, and its ratio to a baseline measured in the same run.
export interface BenchRow {
  scenario: string;
  metric: string;
  value: number;
  unit: string;
  baseline?: string;
  baselineValue?: number;
  ratio?: number;
  target?: string;
  note?: string;
}
