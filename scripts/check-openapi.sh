#!/usr/bin/env bash
# Validates the generated OpenAPI specs with npm tools, installed with pinned
# versions into the ignored folder .npm-tools/ (first run: ~30 s, then cached):
# openapi/gokernels.swagger.json (Swagger 2.0: swagger-cli, redocly) and
# openapi/gokernels.openapi.json (OpenAPI 3.0: redocly).
#   bash scripts/check-openapi.sh [swagger.json [openapi.json]]
# Needs node >= 20 and npm; reaches only the npm registry.
set -euo pipefail
cd "$(dirname "$0")/.."

SPEC="${1:-openapi/gokernels.swagger.json}"
SPEC3="${2:-openapi/gokernels.openapi.json}"
TOOLS=.npm-tools
PKGS=(@apidevtools/swagger-cli@4.0.4 @redocly/cli@2.77.0)

command -v npm >/dev/null || { echo "check-openapi: npm is required (node >= 20)" >&2; exit 1; }
want="${PKGS[*]}"
if [[ ! -x $TOOLS/node_modules/.bin/swagger-cli || ! -x $TOOLS/node_modules/.bin/redocly || "$(cat $TOOLS/.installed 2>/dev/null)" != "$want" ]]; then
	echo "check-openapi: installing ${PKGS[*]} into $TOOLS/"
	mkdir -p "$TOOLS"
	npm install --prefix "$TOOLS" --no-audit --no-fund --loglevel=error --save-exact "${PKGS[@]}"
	echo "$want" > "$TOOLS/.installed"
fi
export REDOCLY_TELEMETRY=off REDOCLY_SUPPRESS_UPDATE_NOTICE=true

# Swagger 2.0 schema and $ref validation.
"$TOOLS/node_modules/.bin/swagger-cli" validate "$SPEC"
# Lint both (recommended rules, see scripts/redocly.yaml for what is relaxed
# and why); redocly reads the version from each file.
for spec in "$SPEC" "$SPEC3"; do
	rc=0
	out=$("$TOOLS/node_modules/.bin/redocly" lint --config scripts/redocly.yaml --format=stylish "$spec" 2>&1) || rc=$?
	grep -v -e '║' -e '╔' -e '╚' -e '^ *$' <<<"$out" || true
	[[ $rc == 0 ]] || { echo "check-openapi: redocly lint of $spec failed" >&2; exit 1; }
done

# Every REST endpoint the server serves is in the spec.
node -e '
const spec = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
const want = {"/execute": "post", "/kernels": "get", "/kernels/{kernel_id}": "get", "/health": "get",
  "/health/live": "get", "/health/ready": "get", "/metrics": "get", "/stats": "get"};
let bad = 0;
for (const [p, m] of Object.entries(want)) {
  const op = (spec.paths[p] || {})[m];
  if (!op) { console.error(`missing ${m.toUpperCase()} ${p}`); bad++; continue; }
  if (!op.summary) { console.error(`${m.toUpperCase()} ${p} has no summary`); bad++; }
}
const ex = spec.definitions.ExecuteRequest && spec.definitions.ExecuteRequest.example;
if (!ex || !ex.kernel_id) { console.error("ExecuteRequest has no example"); bad++; }
if (bad) process.exit(1);
console.log(`${Object.keys(want).length} endpoints, each with a summary; /execute has an example`);
' "$SPEC"
echo "check-openapi: $SPEC and $SPEC3 ok"
