// Prometheus text exposition format 0.0.4, written by hand: the engine exposes a dozen
// families and a client library would add a registry and per-sample objects we do not need.

export const PROMETHEUS_CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';

export type MetricType = 'counter' | 'gauge' | 'summary';

export class ExpositionWriter {
  private out = '';

  family(name: string, type: MetricType, help: string): this {
    this.out += `# HELP ${name} ${escapeHelp(help)}\n# TYPE ${name} ${type}\n`;
    return this;
  }

  sample(name: string, value: number, labels?: Record<string, string>): this {
    let line = name;
    if (labels !== undefined) {
      const parts: string[] = [];
      for (const key in labels) parts.push(`${key}="${escapeLabelValue(labels[key]!)}"`);
      if (parts.length > 0) line += `{${parts.join(',')}}`;
    }
    this.out += `${line} ${formatValue(value)}\n`;
    return this;
  }

  text(): string {
    return this.out;
  }
}

export function escapeLabelValue(v: string): string {
  return v.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
}

function escapeHelp(v: string): string {
  return v.replace(/\\/g, '\\\\').replace(/\n/g, '\\n');
}

export function formatValue(v: number): string {
  if (Number.isNaN(v)) return 'NaN';
  if (v === Infinity) return '+Inf';
  if (v === -Infinity) return '-Inf';
  return String(v);
}
