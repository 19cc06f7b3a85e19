"""What a hunt leaves behind: findings.jsonl, scope.json, case.json, run.json and report.html."""

from seawall.report.writer import write_outputs

__all__ = ["write_outputs"]
