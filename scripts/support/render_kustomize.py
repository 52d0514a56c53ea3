"""A minimal `kustomize build` for a base that lists plain resources: prints every document
of every resource, in order. Anything else in kustomization.yaml (patches, generators,
transformers) is refused rather than ignored, so the output is never silently wrong."""

import pathlib
import sys

import yaml

SUPPORTED = {"apiVersion", "kind", "resources"}


def main(base: str) -> None:
    root = pathlib.Path(base)
    k = yaml.safe_load((root / "kustomization.yaml").read_text())
    extra = set(k) - SUPPORTED
    if extra:
        sys.exit(f"render_kustomize: unsupported kustomization keys {sorted(extra)}: use kubectl kustomize")
    docs = []
    for res in k["resources"]:
        path = root / res
        if not path.is_file():
            sys.exit(f"render_kustomize: {path} is not a file (remote or directory resources need kubectl)")
        docs += [d for d in yaml.safe_load_all(path.read_text()) if d is not None]
    yaml.safe_dump_all(docs, sys.stdout, sort_keys=False)


if __name__ == "__main__":
    main(sys.argv[1])
