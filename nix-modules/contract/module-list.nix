# The contract's modules, by context — like nixpkgs' nixos/modules/module-list.nix.
# Every file mirrors the nixpkgs file of the same path: the options it
# declares that domi-nix uses, and the definitions it makes in `config`.
let
  # A plain NixOS system (nixos/lib/eval-config.nix with no user modules).
  system = [
    ./nixos/modules/config/i18n.nix
    ./nixos/modules/config/locale.nix
    ./nixos/modules/config/nix-remote-build.nix
    ./nixos/modules/config/nix.nix
    ./nixos/modules/config/nsswitch.nix
    ./nixos/modules/config/shells-environment.nix
    ./nixos/modules/config/sysctl.nix
    ./nixos/modules/config/system-path.nix
    ./nixos/modules/config/users-groups.nix
    ./nixos/modules/misc/assertions.nix
    ./nixos/modules/misc/documentation.nix
    ./nixos/modules/misc/label.nix
    ./nixos/modules/misc/nixpkgs.nix
    ./nixos/modules/misc/version.nix
    ./nixos/modules/programs/ssh.nix
    ./nixos/modules/security/default.nix
    ./nixos/modules/security/lock-kernel-modules.nix
    ./nixos/modules/security/misc.nix
    ./nixos/modules/security/pam.nix
    ./nixos/modules/security/sudo.nix
    ./nixos/modules/services/networking/firewall.nix
    ./nixos/modules/services/networking/ssh/sshd.nix
    ./nixos/modules/services/system/nix-daemon.nix
    ./nixos/modules/services/ttys/getty.nix
    ./nixos/modules/system/boot/kernel.nix
    ./nixos/modules/system/boot/loader/systemd-boot/systemd-boot.nix
    ./nixos/modules/system/boot/modprobe.nix
    ./nixos/modules/system/boot/shutdown.nix
    ./nixos/modules/system/boot/systemd.nix
    ./nixos/modules/system/boot/systemd/coredump.nix
    ./nixos/modules/system/boot/tmp.nix
    ./nixos/modules/system/etc/etc.nix
    ./nixos/modules/tasks/network-interfaces.nix
    ./nixos/modules/virtualisation/build-vm.nix
  ];

  # The VM variant (`virtualisation.vmVariant`, `system.build.vm`) adds qemu-vm.nix.
  vm = system ++ [./nixos/modules/virtualisation/qemu-vm.nix];
in {
  inherit system vm;

  # A node of a NixOS test (`pkgs.testers.runNixOSTest`), given its name:
  # nixos-test-base.nix (qemu-vm.nix and test-instrumentation.nix), what
  # nodes.nix sets on every node, and network.nix's host name.
  test = node:
    vm
    ++ [
      ./nixos/lib/testing/nixos-test-base.nix
      ./nixos/modules/testing/test-instrumentation.nix
      ./nixos/lib/testing/nodes.nix
      (import ./nixos/lib/testing/network.nix node)
    ];
}
