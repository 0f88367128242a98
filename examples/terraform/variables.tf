variable "z2jh_policy_bin" {
  description = "The z2jh-policy binary: a name on PATH or an absolute path. It must exist on every machine that runs `terraform plan` (CI runners included)."
  type        = string
  default     = "z2jh-policy"
}

variable "chart_version" {
  description = "z2jh chart version to target, overriding the policy's `chart:` (e.g. \"3.3.8\"). null keeps the policy's."
  type        = string
  default     = null
}

variable "chart_dir" {
  description = "Optional chart folder from `helm pull jupyterhub/jupyterhub --version VERSION --untar`; when set, the merged values are validated against the chart's values.schema.json during plan. Relative paths resolve against the directory Terraform runs in: prefer an absolute path or one built from path.root."
  type        = string
  default     = null
}

variable "release_name" {
  description = "Helm release name."
  type        = string
  default     = "jhub"
}

variable "kubeconfig" {
  description = "Path to the kubeconfig used by the helm and kubernetes providers."
  type        = string
  default     = "~/.kube/config"
}

variable "github_client_secret" {
  description = "OAuth client secret of the GitHub authenticator. Passed with set_sensitive, never through the values files."
  type        = string
  sensitive   = true
}
