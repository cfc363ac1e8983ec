#!/usr/bin/env bash
# Generates what the release archives and packages carry besides the binary: shell
# completions and gzipped man pages, into release-assets/ (gitignored). goreleaser runs it
# as a before hook; it builds hostfix for this machine to ask it (completion and docs need
# neither a host nor a config file, so the build machine's state does not leak in).
set -euo pipefail
cd "$(dirname "$0")/.."
out=release-assets
rm -rf "$out"
mkdir -p "$out/completions" "$out/man"
gen="$out/.hostfix-gen"
go build -o "$gen" .
"$gen" completion bash >"$out/completions/hostfix.bash"
"$gen" completion zsh >"$out/completions/_hostfix"
"$gen" completion fish >"$out/completions/hostfix.fish"
"$gen" completion powershell >"$out/completions/hostfix.ps1"
"$gen" --quiet docs --dir "$out/.md" --man-dir "$out/man"
# -n: no name or timestamp in the gzip header, so the output is reproducible.
gzip -n -9 "$out"/man/*.1
rm -rf "$gen" "$out/.md"
echo "release assets: $(find "$out" -type f | wc -l) files in $out/"
