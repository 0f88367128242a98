# Compile policy.yaml into z2jh values and Kubernetes manifests on every plan
# and refresh, feed the values to helm_release and apply the manifests.

provider "kubernetes" {
  config_path = var.kubeconfig
}

provider "helm" {
  kubernetes = {
    config_path = var.kubeconfig
  }
}

locals {
  # Terraform runs the program in its own working directory, not in this
  # module's folder: every path handed to it is built from path.module.
  policy_file = "${path.module}/policy.yaml"
  base_values = "${path.module}/config.yaml"

  # The namespace comes from the policy itself, so the two cannot disagree.
  namespace = yamldecode(file(local.policy_file)).metadata.namespace
}

data "external" "jhub" {
  program = [var.z2jh_policy_bin, "terraform"]

  # Every query value is a string; null (or "") means "not given".
  query = {
    policy        = local.policy_file
    base_values   = local.base_values
    chart_version = var.chart_version
    chart_dir     = var.chart_dir
  }

  # No depends_on here. A data source with depends_on is read only during
  # apply, so the plan would show "(known after apply)" for the values and
  # the for_each maps below would fail on unknown keys. The query already
  # names everything the program reads.
}

locals {
  result   = data.external.jhub.result
  warnings = jsondecode(local.result.warnings)
  notes    = jsondecode(local.result.notes)

  # Every *_yaml key is always present (an empty string when the policy
  # emits nothing for that group), so these references never fail. Empty
  # groups are skipped rather than decoded.
  namespace_manifests = [
    for text in [local.result.namespace_yaml] :
    provider::kubernetes::manifest_decode_multi(text) if text != ""
  ]
  other_manifests = [
    for text in [
      local.result.runtime_yaml,
      local.result.rbac_yaml,
      local.result.network_yaml,
      local.result.storage_yaml,
      local.result.quota_yaml,
      local.result.admission_yaml,
    ] :
    provider::kubernetes::manifest_decode_multi(text) if text != ""
  ]

  # Keyed by kind/namespace/name, not by position: adding one manifest to the
  # policy must not rename (and so delete and re-create) all the others.
  namespaces = {
    for m in flatten(local.namespace_manifests) :
    "${m.kind}/${m.metadata.name}" => m
  }
  security_objects = {
    for m in flatten(local.other_manifests) :
    "${m.kind}/${try(m.metadata.namespace, "")}/${m.metadata.name}" => m
  }
}

# Warnings show up in every plan without failing it.
check "z2jh_policy_warnings" {
  assert {
    condition     = length(local.warnings) == 0
    error_message = "z2jh-policy warnings:\n${join("\n", local.warnings)}"
  }
}

# The hub namespace (with its Pod Security labels) must exist before any pod
# does. If the namespace already exists, import it first:
#   terraform import 'kubernetes_manifest.namespace["Namespace/jhub"]' \
#     'apiVersion=v1,kind=Namespace,name=jhub'
# kubernetes_manifest needs a reachable cluster at plan time; on a cluster
# created in the same apply, use the alekc/kubectl provider's kubectl_manifest
# with yaml_body = provider::kubernetes::manifest_encode(each.value) instead.
resource "kubernetes_manifest" "namespace" {
  for_each = local.namespaces
  manifest = each.value
}

# RuntimeClasses, RBAC, NetworkPolicies, StorageClasses, quotas: after the
# namespaces.
resource "kubernetes_manifest" "security" {
  for_each   = local.security_objects
  manifest   = each.value
  depends_on = [kubernetes_manifest.namespace]
}

resource "helm_release" "jhub" {
  name       = var.release_name
  namespace  = local.namespace
  repository = "https://hub.jupyter.org/helm-chart/"
  chart      = "jupyterhub"
  version    = local.result.chart_version

  # Helm's --create-namespace would create it without the Pod Security labels.
  create_namespace = false

  # One document: config.yaml with the policy's values merged over it. Do not
  # add more values documents after it: later documents win in Helm and could
  # undo a security setting.
  values = [local.result.values_yaml]

  # Secrets never go through values_yaml (it is stored in the state and shown
  # in plans). sensitive() keeps the value out of plan output even where the
  # variable is not declared sensitive.
  set_sensitive = [
    {
      name  = "hub.config.GitHubOAuthenticator.client_secret"
      value = sensitive(var.github_client_secret)
    },
  ]

  depends_on = [
    kubernetes_manifest.namespace,
    kubernetes_manifest.security,
  ]
}
