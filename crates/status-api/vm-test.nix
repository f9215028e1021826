# NixOS VM test of the status-api branch (`checks.<system>.status-api`): a
# client fetches the status API from a server over the test network; a
# second server whose port is not opened in the firewall stays closed; the
# live unit's band under systemd's own analyzer is the audited one.
let
  # The band `cargo xtask audit` gives the server's unit offline
  # (crates/status-api/tests/audit.rs checks that the two agree).
  band = "OK";
  port = 9180;
  server = openFirewall: {
    domi-nix.status-api = {
      address = "0.0.0.0";
      inherit port openFirewall;
    };
  };
in {
  name = "domi-nix-status-api";

  nodes = {
    server = server true;
    closed = server false;
    client = {pkgs, ...}: {
      environment.systemPackages = [pkgs.curl];
    };
  };

  testScript = ''
    import json

    start_all()
    for m in [server, closed]:
        m.wait_for_unit("domi-nix-status.service")
        m.wait_for_open_port(${toString port})
    client.wait_for_unit("multi-user.target")

    def get(path, host="server"):
        return client.succeed(f"curl --fail --silent --max-time 10 http://{host}:${toString port}{path}")

    with subtest("the client reads the server's health and features"):
        health = json.loads(get("/health"))
        assert health["status"] == "ok", health
        assert health["uptime_seconds"] >= 0, health
        features = json.loads(get("/features"))["features"]
        for branch in ["status-api", "packages", "sandboxing"]:
            assert branch in features, features
        assert features["status-api"]["services"] == ["domi-nix-status.service"], features

    with subtest("unknown paths and other methods are refused"):
        code = client.succeed("curl --silent --output /dev/null --write-out '%{http_code}' http://server:${toString port}/nope")
        assert code == "404", code
        code = client.succeed("curl --silent --output /dev/null --write-out '%{http_code}' -X POST http://server:${toString port}/health")
        assert code == "405", code

    with subtest("metrics count what was served"):
        metrics = get("/metrics")
        assert 'domi_nix_status_requests_total{route="/health",status="200"}' in metrics, metrics

    with subtest("a port that is not opened stays closed"):
        client.fail("curl --fail --silent --max-time 5 http://closed:${toString port}/health")
        closed.succeed("curl --fail --silent --max-time 5 http://127.0.0.1:${toString port}/health")

    with subtest("systemd's analyzer on the machine gives the audited band"):
        overall = server.succeed("systemd-analyze security domi-nix-status.service | tail -n 1")
        assert "Overall exposure level for domi-nix-status.service" in overall, overall
        assert " ${band} " in overall, overall
  '';
}
