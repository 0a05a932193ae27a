/** A rules file of one rule whose transitions go to the action stream (action `note`). */
export function streamRuleYaml(id: string, when: string): string {
  return `
rules:
  - id: ${id}
    when: ${when}
    actions: [note]
actions:
  note: { kind: stream }
`;
}
