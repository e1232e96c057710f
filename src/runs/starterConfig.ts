/**
 * The commented runlens.yaml that RunLens: Open or Create runlens.yaml writes into a workspace that
 * has none. Plain text, no vscode: a unit test parses it with the real config parser.
 */
export function starterConfig(folderName: string): string {
  // plain when YAML reads it as a string (not 2024, true or null), else double-quoted
  const plain = /^[A-Za-z_][\w.-]*$/.test(folderName) && !/^(true|false|null)$/i.test(folderName);
  const experiment = plain ? folderName : JSON.stringify(folderName.trim() || 'default');
  return `# RunLens: Start Run… offers each run configuration under \`runs:\`.
# Paths are relative to this folder.

experiment: ${experiment}   # groups runs in the sidebar
primary_metric: { name: val_loss, goal: min }   # ranks the runs

runs:
  train:
    command: [python3, train.py]   # a string runs through a shell
    # params: [params.yaml]        # recorded with each run
    # override_style: argparse     # --lr 0.1; or hydra, or file
    # datasets: [data]             # hashed, so runs record their data
    # outputs: [outputs]           # kept when the run ends

# metric_patterns: ['val loss (?<val_loss>[0-9.]+)']   # your own regexes
`;
}
