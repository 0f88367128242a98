terraform {
  # Provider-defined functions (provider::kubernetes::manifest_decode_multi)
  # and `check` blocks need Terraform 1.8 or newer.
  required_version = ">= 1.8.0"

  required_providers {
    external = {
      source = "hashicorp/external"
      # Pinned on purpose. How a `null` query value reaches the program has
      # changed between releases (2.3.1 sent it as "", 2.3.2 omits it again,
      # a future major release may pass `null` through). z2jh-policy treats
      # all three as "not given", but a provider upgrade should still be a
      # reviewed change, not a side effect of `terraform init -upgrade`.
      version = ">= 2.3.2, < 3.0.0"
    }
    helm = {
      source = "hashicorp/helm"
      # 3.x: `kubernetes = { … }` and `set_sensitive = [ … ]` are attributes, not blocks.
      version = "~> 3.0"
    }
    kubernetes = {
      source  = "hashicorp/kubernetes"
      version = ">= 2.28.0, < 4.0.0"
    }
  }
}
