"""`make validate` step: the question `sam deploy --guided` asks for every API function without authentication
("<Function> has no authentication. Is this okay? [y/N]", which aborts on the default answer) must not come up.

Runs in SAM CLI's own environment (.tools/sam) with the check guided deploy itself uses.
"""
import sys

from samcli.commands.deploy.auth_utils import auth_per_resource
from samcli.lib.providers.sam_stack_provider import SamLocalStackProvider


def main(template: str) -> int:
    stacks, _ = SamLocalStackProvider.get_stacks(template)
    checked = auth_per_resource(stacks)
    missing = sorted({name for name, has_auth in checked if not has_auth})
    if missing:
        print(f"sam deploy --guided would ask about missing authentication for: {', '.join(missing)}")
        return 1
    print(f"every API function has authentication ({len(checked)} API events checked)")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1] if len(sys.argv) > 1 else "template.yaml"))
