output "chart_version" {
  description = "The z2jh chart version the values were compiled for."
  value       = local.result.chart_version
}

output "policy_sha256" {
  description = "SHA-256 of the compiled values, manifests and chart version; changes exactly when what gets deployed changes. Use it as an annotation or in replace_triggered_by."
  value       = local.result.sha256
}

output "warnings" {
  description = "Trade-offs the policy accepts and settings config.yaml weakens, one line each."
  value       = local.warnings
}

output "notes" {
  description = "Things to do or know outside the chart."
  value       = local.notes
}

output "values_yaml" {
  description = "The values handed to helm_release. Mark it sensitive if config.yaml ever holds secrets."
  value       = local.result.values_yaml
}
