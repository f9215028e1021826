# The NixOS contract: every NixOS option that a domi-nix module sets or reads,
# declared the way nixpkgs declares it.
#
# Why: the domi-nix feature modules are evaluated offline, with nixpkgs' `lib`
# only (full nixpkgs is not available where the tests run). `module.nix` turns
# the entries below into real option declarations so that `lib.evalModules`
# type-checks module output exactly as a NixOS system would. `verify.nix`
# checks, against a real nixpkgs checkout, that every entry still exists with
# the same type and the same declaring file.
#
# Source of the facts: option names, types, defaults and declaring files are
# taken from nixpkgs' NixOS modules (targeting the pinned nixos-25.11 branch).
# The descriptions are our own short summaries, not nixpkgs' text.
#
# Entry shape, keyed by the dotted option path (no component of a path may
# itself contain a dot):
#
#   "<dotted.option.path>" = {
#     declaredIn = "nixos/modules/<file>.nix"; # nixpkgs-relative, as declared upstream
#     type = lib.types.<...>;                  # the same type nixpkgs uses
#     default = <value>;                       # nixpkgs' default where it is a plain value
#     description = "<what the option does>";
#     apply = <fn>;                            # optional, only where nixpkgs has one
#   };
#
# To add an option: find its `mkOption` in nixpkgs (nixos/modules/...), add an
# entry in the group of its declaring file (start a new group for a new file),
# reproduce its type with `lib.types` (same constructors, same arguments), copy
# the default if it is a plain value (otherwise pick the empty value of the
# type and say why in a comment), then run `cargo xtask contract verify`.
# Options whose nixpkgs default depends on `config` or `pkgs` get a plain
# default here; the comment next to them names the nixpkgs default.
{lib}: let
  inherit (lib) mkOption types;

  # Store-path-shaped stand-ins for derivations; never built (see pkgs.nix).
  stubs = import ./pkgs.nix {inherit lib;};

  # --- nixos/modules/config/sysctl.nix ----------------------------------------

  # A single sysctl value: a string, integer or boolean, or null to leave the
  # parameter out. Like nixpkgs, a value wrapped in a priority override
  # (`mkForce`, `mkDefault`, ...) is accepted as well.
  sysctlValue = lib.mkOptionType {
    name = "sysctl option value";
    check = value: let
      plain = x: x == null || lib.isBool x || lib.isInt x || lib.isString x;
    in
      plain value || ((value._type or null) == "override" && plain value.content);
    merge = loc: defs: lib.mergeOneOption loc (lib.filterOverrides defs);
  };

  # Socket buffer ceilings: several modules may ask for one, the largest wins.
  largestUnsigned =
    types.ints.unsigned
    // {
      merge = _loc: defs: lib.foldl' (acc: def: lib.max acc def.value) 0 defs;
    };

  sysctlSet = types.submodule {
    freeformType = types.attrsOf sysctlValue;
    options = {
      "net.core.rmem_max" = mkOption {
        type = types.nullOr largestUnsigned;
        default = null;
        description = "Largest socket receive buffer, in bytes; when several definitions exist the highest one is used.";
      };
      "net.core.wmem_max" = mkOption {
        type = types.nullOr largestUnsigned;
        default = null;
        description = "Largest socket send buffer, in bytes; when several definitions exist the highest one is used.";
      };
    };
  };

  # --- nixos/modules/system/boot/kernel.nix -----------------------------------

  # One kernel command-line word; spaces are only allowed inside double quotes.
  kernelParam =
    types.strMatching ''([^"[:space:]]|"[^"]*")+''
    // {
      name = "kernelParam";
      description = "string, with spaces inside double quotes";
    };

  # --- nixos/modules/system/boot/modprobe.nix ---------------------------------

  # Either a list of module names or an attribute set of name -> bool; a list
  # is turned into an attribute set with every name set to true.
  namesToTrue =
    types.coercedTo (types.listOf types.str)
    (names: lib.genAttrs names (_: true))
    (types.attrsOf types.bool);

  enabledNames = set: builtins.attrNames (lib.filterAttrs (_: on: on) set);

  # --- nixos/modules/system/etc/etc.nix ---------------------------------------

  etcFile = types.submodule ({
    name,
    config,
    options,
    ...
  }: {
    options = {
      enable = mkOption {
        type = types.bool;
        default = true;
        description = "Whether this file is put into /etc at all.";
      };
      target = mkOption {
        type = types.str;
        description = "Where the file goes, relative to /etc; the attribute name unless set.";
      };
      text = mkOption {
        type = types.nullOr types.lines;
        default = null;
        description = "Contents of the file, when given inline.";
      };
      source = mkOption {
        type = types.path;
        description = "The file to link (or copy) into /etc.";
      };
      mode = mkOption {
        type = types.str;
        default = "symlink";
        description = "`symlink` to link the file; any other value copies it with that octal mode.";
      };
      uid = mkOption {
        type = types.int;
        default = 0;
        description = "Owner id of a copied file.";
      };
      gid = mkOption {
        type = types.int;
        default = 0;
        description = "Group id of a copied file.";
      };
      user = mkOption {
        type = types.str;
        default = "+${toString config.uid}";
        description = "Owner name of a copied file; takes precedence over `uid`.";
      };
      group = mkOption {
        type = types.str;
        default = "+${toString config.gid}";
        description = "Group name of a copied file; takes precedence over `gid`.";
      };
    };
    config = {
      target = lib.mkDefault name;
      # nixpkgs writes `text` out with pkgs.writeText; here it becomes a
      # store-path-shaped stub so nothing is built.
      source = lib.mkIf (config.text != null) (
        lib.mkDerivedConfig options.text
        (stubs.writeText "etc-${lib.replaceStrings ["/"] ["-"] name}")
      );
    };
  });

  # --- nixos/modules/config/users-groups.nix ----------------------------------
  # (`openssh.authorizedKeys.keys` is added to the same submodule by
  # nixos/modules/services/networking/ssh/sshd.nix.)

  userAccount = types.submodule ({
    name,
    config,
    ...
  }: {
    options = {
      name = mkOption {
        type = types.passwdEntry types.str;
        description = "Login name; the attribute name unless set.";
      };
      description = mkOption {
        type = types.passwdEntry types.str;
        default = "";
        description = "The GECOS field, usually the person's full name.";
      };
      isNormalUser = mkOption {
        type = types.bool;
        default = false;
        description = "A login account for a person: gets a home under /home, the `users` group and a created home directory.";
      };
      isSystemUser = mkOption {
        type = types.bool;
        default = false;
        description = "An account for a service: gets a uid below 1000 when none is given.";
      };
      extraGroups = mkOption {
        type = types.listOf types.str;
        default = [];
        description = "Supplementary groups of the account.";
      };
      initialPassword = mkOption {
        type = types.nullOr types.str;
        default = null;
        description = "Clear-text password set when the account is first created (world-readable in the store).";
      };
      hashedPasswordFile = mkOption {
        type = types.nullOr types.str;
        default = null;
        description = "Path of a file, read at activation, holding the account's password hash.";
      };
      home = mkOption {
        type = types.passwdEntry types.path;
        default = "/var/empty";
        description = "Home directory of the account.";
      };
      createHome = mkOption {
        type = types.bool;
        default = false;
        description = "Whether to create the home directory and give it to the account.";
      };
      shell = mkOption {
        type = types.nullOr (types.either types.shellPackage (types.passwdEntry types.path));
        # nixpkgs: pkgs.shadow (its `nologin`).
        default = stubs.shadow;
        description = "Login shell: a shell package or an absolute path.";
      };
      group = mkOption {
        type = types.str;
        default = "";
        description = "Primary group of the account.";
      };
      openssh.authorizedKeys.keys = mkOption {
        type = types.listOf types.singleLineStr;
        default = [];
        description = "OpenSSH public keys, one per line, allowed to log in as this account.";
      };
    };
    config = lib.mkMerge [
      {name = lib.mkDefault name;}
      (lib.mkIf config.isNormalUser {
        createHome = lib.mkDefault true;
        group = lib.mkDefault "users";
        # nixpkgs: "${config.users.defaultUserHome}/${name}", which is /home by default.
        home = lib.mkDefault "/home/${config.name}";
        isSystemUser = lib.mkDefault false;
      })
    ];
  });
in {
  # --- nixos/modules/misc/assertions.nix --------------------------------------

  "assertions" = {
    declaredIn = "nixos/modules/misc/assertions.nix";
    type = types.listOf types.unspecified;
    default = [];
    description = "Conditions (`{ assertion; message; }`) that must hold for the configuration to evaluate.";
  };

  "warnings" = {
    declaredIn = "nixos/modules/misc/assertions.nix";
    type = types.listOf types.str;
    default = [];
    description = "Messages printed as warnings while the configuration is evaluated.";
  };

  # --- nixos/modules/misc/version.nix -----------------------------------------

  "system.nixos.distroName" = {
    declaredIn = "nixos/modules/misc/version.nix";
    type = types.str;
    default = "NixOS";
    description = "Human-readable name of the operating system (os-release NAME).";
  };

  "system.nixos.distroId" = {
    declaredIn = "nixos/modules/misc/version.nix";
    type = types.str;
    default = "nixos";
    description = "Machine-readable id of the operating system (os-release ID).";
  };

  "system.nixos.variant_id" = {
    declaredIn = "nixos/modules/misc/version.nix";
    type = types.nullOr (types.strMatching "^[a-z0-9._-]+$");
    default = null;
    description = "Lower-case id of the variant or edition of the system (os-release VARIANT_ID).";
  };

  "system.nixos.variantName" = {
    declaredIn = "nixos/modules/misc/version.nix";
    type = types.nullOr types.str;
    default = null;
    description = "Human-readable name of the variant or edition of the system (os-release VARIANT).";
  };

  "system.stateVersion" = {
    declaredIn = "nixos/modules/misc/version.nix";
    type = types.str;
    # nixpkgs: config.system.nixos.release, i.e. lib.trivial.release.
    default = lib.trivial.release;
    description = "Release of the first NixOS installed on the machine; keeps stateful data formats compatible.";
  };

  # --- nixos/modules/tasks/network-interfaces.nix -----------------------------

  "networking.hostName" = {
    declaredIn = "nixos/modules/tasks/network-interfaces.nix";
    type = types.strMatching "^$|^[[:alnum:]]([[:alnum:]_-]{0,61}[[:alnum:]])?$";
    # nixpkgs: config.system.nixos.distroId, which is "nixos" by default.
    default = "nixos";
    description = "Host name: a single DNS label (no domain part), or empty to take it from DHCP.";
  };

  # --- nixos/modules/services/networking/firewall.nix -------------------------

  "networking.firewall.enable" = {
    declaredIn = "nixos/modules/services/networking/firewall.nix";
    type = types.bool;
    default = true;
    description = "Whether the stateful firewall that drops unrequested inbound connections is on.";
  };

  # --- nixos/modules/services/networking/ssh/sshd.nix -------------------------

  "services.openssh.enable" = {
    declaredIn = "nixos/modules/services/networking/ssh/sshd.nix";
    type = types.bool;
    default = false;
    description = "Whether to run the OpenSSH daemon.";
  };

  # --- nixos/modules/security/pam.nix -----------------------------------------

  "users.motd" = {
    declaredIn = "nixos/modules/security/pam.nix";
    type = types.lines;
    default = "";
    description = "Message of the day shown at login.";
  };

  # --- nixos/modules/config/users-groups.nix ----------------------------------

  "users.users" = {
    declaredIn = "nixos/modules/config/users-groups.nix";
    type = types.attrsOf userAccount;
    default = {};
    description = "User accounts, by login name.";
  };

  # --- nixos/modules/services/ttys/getty.nix ----------------------------------

  "services.getty.greetingLine" = {
    declaredIn = "nixos/modules/services/ttys/getty.nix";
    type = types.str;
    # nixpkgs has no declared default; its config sets (mkDefault) a welcome
    # line built from system.nixos.distroName and system.nixos.label.
    default = "";
    description = "Welcome line agetty prints above the login prompt.";
  };

  "services.getty.helpLine" = {
    declaredIn = "nixos/modules/services/ttys/getty.nix";
    type = types.lines;
    default = "";
    description = "Help text agetty prints below the welcome line.";
  };

  "services.getty.autologinUser" = {
    declaredIn = "nixos/modules/services/ttys/getty.nix";
    type = types.nullOr types.str;
    default = null;
    description = "Account logged in automatically on the console, or null for a normal login prompt.";
  };

  # --- nixos/modules/system/etc/etc.nix ---------------------------------------

  "environment.etc" = {
    declaredIn = "nixos/modules/system/etc/etc.nix";
    type = types.attrsOf etcFile;
    default = {};
    description = "Files placed in /etc, by path relative to /etc.";
  };

  # --- nixos/modules/config/system-path.nix -----------------------------------

  "environment.systemPackages" = {
    declaredIn = "nixos/modules/config/system-path.nix";
    type = types.listOf types.package;
    default = [];
    description = "Packages installed into the system profile, available to every user.";
  };

  # --- nixos/modules/config/shells-environment.nix ----------------------------

  "environment.loginShellInit" = {
    declaredIn = "nixos/modules/config/shells-environment.nix";
    type = types.lines;
    default = "";
    description = "Shell-independent (POSIX sh) code run when a login shell starts.";
  };

  "environment.interactiveShellInit" = {
    declaredIn = "nixos/modules/config/shells-environment.nix";
    type = types.lines;
    default = "";
    description = "Shell-independent (POSIX sh) code run when an interactive shell starts.";
  };

  # --- nixos/modules/config/sysctl.nix ----------------------------------------

  "boot.kernel.sysctl" = {
    declaredIn = "nixos/modules/config/sysctl.nix";
    type = sysctlSet;
    default = {};
    description = "Kernel runtime parameters written to sysctl.d, by quoted name (e.g. \"vm.swappiness\"); null leaves one out.";
  };

  # --- nixos/modules/system/boot/kernel.nix -----------------------------------

  "boot.kernelParams" = {
    declaredIn = "nixos/modules/system/boot/kernel.nix";
    type = types.listOf kernelParam;
    default = [];
    description = "Extra words for the kernel command line.";
  };

  # --- nixos/modules/system/boot/modprobe.nix ---------------------------------

  "boot.blacklistedKernelModules" = {
    declaredIn = "nixos/modules/system/boot/modprobe.nix";
    type = namesToTrue;
    default = {};
    # Like nixpkgs, readers see the list of blacklisted module names.
    apply = enabledNames;
    description = "Kernel modules that must not be loaded automatically: a list of names, or names set to true.";
  };

  # --- nixos/modules/system/boot/tmp.nix --------------------------------------

  "boot.tmp.cleanOnBoot" = {
    declaredIn = "nixos/modules/system/boot/tmp.nix";
    type = types.bool;
    default = false;
    description = "Whether /tmp is emptied at every boot.";
  };

  # --- nixos/modules/security/misc.nix ----------------------------------------

  "security.protectKernelImage" = {
    declaredIn = "nixos/modules/security/misc.nix";
    type = types.bool;
    default = false;
    description = "Whether to stop the running kernel from being replaced (no kexec, no hibernation).";
  };

  "security.forcePageTableIsolation" = {
    declaredIn = "nixos/modules/security/misc.nix";
    type = types.bool;
    default = false;
    description = "Whether to turn on kernel page table isolation even on CPUs that report being unaffected by Meltdown.";
  };

  # --- nixos/modules/security/lock-kernel-modules.nix -------------------------

  "security.lockKernelModules" = {
    declaredIn = "nixos/modules/security/lock-kernel-modules.nix";
    type = types.bool;
    default = false;
    description = "Whether to forbid loading kernel modules once the system has finished booting.";
  };

  # --- nixos/modules/security/sudo.nix ----------------------------------------

  "security.sudo.enable" = {
    declaredIn = "nixos/modules/security/sudo.nix";
    type = types.bool;
    default = true;
    description = "Whether the sudo command is installed.";
  };

  "security.sudo.execWheelOnly" = {
    declaredIn = "nixos/modules/security/sudo.nix";
    type = types.bool;
    default = false;
    description = "Whether only members of the wheel group may execute the sudo binary at all.";
  };
}
