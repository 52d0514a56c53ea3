"""What the schemas cannot see in our deployment files: the security posture and wiring
that docs/deploy.md promises. Each check exits non-zero with the reason."""

import sys

import yaml

failures = []


def need(ok, what):
    if not ok:
        failures.append(what)


def load_all(path):
    with open(path) as f:
        return [d for d in yaml.safe_load_all(f) if d is not None]


def key(obj):
    return (obj["apiVersion"], obj["kind"], obj["metadata"]["name"])


def same(a, b):
    # kubectl may order documents and keys differently: compare objects by identity.
    left = {key(o): o for o in load_all(a)}
    right = {key(o): o for o in load_all(b)}
    need(left == right, f"kubectl and our renderer differ: {sorted(set(left) ^ set(right))}")


def kubernetes(path):
    objs = load_all(path)
    kinds = {o["kind"] for o in objs}
    for k in ["Deployment", "Service", "Ingress", "HorizontalPodAutoscaler",
              "PodDisruptionBudget", "NetworkPolicy", "Job"]:
        need(k in kinds, f"the base has no {k}")
    for o in objs:
        if o["kind"] not in ("Deployment", "Job"):
            continue
        name = f"{o['kind']}/{o['metadata']['name']}"
        pod = o["spec"]["template"]["spec"]
        psc = pod.get("securityContext", {})
        need(psc.get("runAsNonRoot") is True, f"{name}: pod runAsNonRoot")
        need(isinstance(psc.get("runAsUser"), int) and psc["runAsUser"] > 0, f"{name}: numeric non-root runAsUser")
        need(psc.get("seccompProfile", {}).get("type") == "RuntimeDefault", f"{name}: seccomp RuntimeDefault")
        need(pod.get("automountServiceAccountToken") is False, f"{name}: no service account token")
        for c in pod.get("initContainers", []) + pod["containers"]:
            sc = c.get("securityContext", {})
            cname = f"{name} container {c['name']}"
            need(sc.get("readOnlyRootFilesystem") is True, f"{cname}: readOnlyRootFilesystem")
            need(sc.get("allowPrivilegeEscalation") is False, f"{cname}: allowPrivilegeEscalation false")
            need(sc.get("capabilities", {}).get("drop") == ["ALL"], f"{cname}: drop ALL capabilities")
            need("limits" in c.get("resources", {}), f"{cname}: resource limits")
        if o["kind"] == "Deployment":
            need(o["spec"]["replicas"] >= 2, f"{name}: at least 2 replicas")
            c = pod["containers"][0]
            need(c["livenessProbe"]["httpGet"]["path"] == "/healthz", f"{name}: liveness on /healthz")
            need(c["readinessProbe"]["httpGet"]["path"] == "/readyz", f"{name}: readiness on /readyz")
            env = {e["name"]: e for e in c["env"]}
            need(env.get("IMMUTABOT_NO_MIGRATE", {}).get("value") == "true", f"{name}: the Job migrates, not the replicas")
            for secret in ["DATABASE_URL", "GITHUB_APP_ID", "GITHUB_WEBHOOK_SECRET"]:
                need("secretKeyRef" in env.get(secret, {}).get("valueFrom", {}), f"{name}: {secret} from the Secret")
            mounts = {m["name"]: m for m in c["volumeMounts"]}
            need(mounts.get("github-app-key", {}).get("readOnly") is True, f"{name}: key mounted read-only")


def compose(path):
    with open(path) as f:
        doc = yaml.safe_load(f)
    s = doc["services"]
    for name, svc in s.items():
        need(svc.get("read_only") is True, f"compose {name}: read_only: true")
    # Chart and kustomization renders write to private folders under /tmp, in memory.
    need(s["immutabot"].get("tmpfs") == ["/tmp:size=256m,mode=1777"],
         "compose immutabot: a tmpfs on /tmp for renders, and nothing else")
    need(sorted(s["db"]["tmpfs"]) == ["/tmp:uid=999,gid=999,mode=1777",
                                       "/var/run/postgresql:uid=999,gid=999,mode=2775"],
         "compose db: tmpfs for the socket dir and /tmp, owned by 999")
    need(any(v.endswith(":/var/lib/postgresql/data") and not v.startswith(("/", "."))
             for v in s["db"]["volumes"]), "compose db: a named volume for the data")
    need(s["db"]["healthcheck"]["test"][:2] == ["CMD", "pg_isready"], "compose db: pg_isready health check")
    need(s["migrate"]["command"] == ["migrate"], "compose migrate: runs `migrate`")
    need(s["migrate"]["depends_on"]["db"]["condition"] == "service_healthy", "compose migrate: after db is healthy")
    need(s["immutabot"]["depends_on"]["migrate"]["condition"] == "service_completed_successfully",
         "compose immutabot: after migrate succeeded")
    need(s["immutabot"]["environment"].get("IMMUTABOT_NO_MIGRATE") == "true", "compose immutabot: IMMUTABOT_NO_MIGRATE")
    for name, svc in s.items():
        for k, v in (svc.get("environment") or {}).items():
            # Secrets come from deploy/.env by interpolation, never literally.
            if "SECRET" in k or "PASSWORD" in k:
                need(str(v).startswith("${"), f"compose {name}: {k} must come from deploy/.env")


def app_manifest(path):
    with open(path) as f:
        m = yaml.safe_load(f)
    for k in ["name", "url", "hook_attributes", "redirect_url", "public", "default_permissions", "default_events"]:
        need(k in m, f"app manifest: {k}")
    need(m.get("public") is False, "app manifest: public: false")
    # contents: write is for the fix-all pull request (one commit through the git data API).
    need(m.get("default_permissions") == {"checks": "write", "contents": "write", "metadata": "read",
                                          "pull_requests": "write"}, "app manifest: permissions")
    need(sorted(m.get("default_events", [])) == ["check_run", "check_suite", "pull_request", "push"],
         "app manifest: events")
    need(str(m.get("hook_attributes", {}).get("url", "")).endswith("/webhooks/github"), "app manifest: webhook URL")


if __name__ == "__main__":
    what, *paths = sys.argv[1:]
    {"same": same, "kubernetes": kubernetes, "compose": compose, "app-manifest": app_manifest}[what](*paths)
    if failures:
        sys.exit("check_deploy: " + "; ".join(failures))
