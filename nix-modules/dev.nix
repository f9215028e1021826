# Developer outputs: formatter, dev shell and the template for a user's host.
{
  perSystem = {pkgs, ...}: {
    formatter = pkgs.alejandra;
    devShells.default = pkgs.mkShell {
      packages = [pkgs.cargo pkgs.rustc pkgs.clippy pkgs.rustfmt pkgs.alejandra pkgs.deadnix pkgs.qemu];
    };
  };

  flake.templates.default = {
    path = ../templates/host;
    description = "A NixOS host of your own that attaches domi-nix branches";
  };
}
