# Profiles: named feature selections, each a function of the guest system.
# The Rust catalog (tooling/dominix) implements the same two definitions.
{dominixCatalog}: {
  # The trunk only: what makes a machine look like domi-nix.
  minimal = _system: [];
  # Every branch that supports the system.
  full = system: dominixCatalog.supporting system;
}
