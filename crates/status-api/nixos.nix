# The status-api NixOS module: a placeholder that declares and sets nothing
# yet (the service, its sandboxing and its options come with the module).
{...}: {}
