# nixpkgs: nixos/modules/config/i18n.nix
# Only what every service gets: the locale archive (nixpkgs: when
# `i18n.supportedLocales` is not empty, which it is not by default; the
# archive is `i18n.glibcLocales`, pkgs.glibcLocales by default).
{pkgs, ...}: {
  config.systemd.globalEnvironment.LOCALE_ARCHIVE = "${pkgs.glibcLocales}/lib/locale/locale-archive";
}
