#!/usr/bin/env python3
# Experiment, not part of any command: writes an Envoy bootstrap with one virtual host of N APIs × 4 routes shaped
# like the adapter's, in a variant, to compare Envoy's cost of building route tables:
#   python3 bench/envoy-route-cost.py regex 10000 && time envoy --mode validate -c regex-10000.json -l error
# Variants: regex (the adapter's shape: regex match + regex rewrite + `apk` metadata), regexonly (prefix rewrite),
# template (uri_template matcher), nometa (regex shape without metadata). Validate mode parses JSON too, so compare
# the variants' ratios only. Findings in docs/next-adapter.md.
import json, sys
variant, n = sys.argv[1], int(sys.argv[2])
routes = []
for i in range(n):
    base = f"/api-{i}/1.0"
    for op, (tmpl, rx, m) in enumerate([("/items", "/items", "GET"), ("/items", "/items", "POST"),
                                         ("/items/{id}", "/items/([^/]+)", "GET"), ("/items/{id}", "/items/([^/]+)", "PUT")]):
        r = {"name": f"r{i}-{op}", "route": {"cluster": "c", "timeout": "60s"},
             "metadata": {"filter_metadata": {"apk": {"api_id": f"id{i}", "api_name": f"api-{i}", "api_version": "1.0",
                          "organization": "default", "environment": "PRODUCTION", "operation": m + " " + tmpl}}}}
        hdr = [{"name": ":method", "string_match": {"exact": m}}]
        if variant == "regex":
            r["match"] = {"safe_regex": {"regex": "^" + base + rx + "([/]{0,1})"}, "headers": hdr}
            r["route"]["regex_rewrite"] = {"pattern": {"regex": "^" + base + "(.*)"}, "substitution": "/backend\\1"}
        elif variant == "regexonly":
            r["match"] = {"safe_regex": {"regex": "^" + base + rx + "([/]{0,1})"}, "headers": hdr}
            r["route"]["prefix_rewrite"] = "/backend"
        elif variant == "template":
            r["match"] = {"path_match_policy": {"name": "envoy.path.match.uri_template.uri_template_matcher",
                "typed_config": {"@type": "type.googleapis.com/envoy.extensions.path.match.uri_template.v3.UriTemplateMatchConfig",
                                 "path_template": base + tmpl.replace("{id}", "{id}")}}, "headers": hdr}
        elif variant == "nometa":
            r["match"] = {"safe_regex": {"regex": "^" + base + rx + "([/]{0,1})"}, "headers": hdr}
            r["route"]["regex_rewrite"] = {"pattern": {"regex": "^" + base + "(.*)"}, "substitution": "/backend\\1"}
            del r["metadata"]
        routes.append(r)
cfg = {"static_resources": {
  "clusters": [{"name": "c", "type": "STATIC", "load_assignment": {"cluster_name": "c", "endpoints": [{"lb_endpoints": [{"endpoint": {"address": {"socket_address": {"address": "127.0.0.1", "port_value": 1}}}}]}]}}],
  "listeners": [{"name": "l", "address": {"socket_address": {"address": "127.0.0.1", "port_value": 1}},
    "filter_chains": [{"filters": [{"name": "hcm", "typed_config": {"@type": "type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager",
      "stat_prefix": "x", "http_filters": [{"name": "envoy.filters.http.router", "typed_config": {"@type": "type.googleapis.com/envoy.extensions.filters.http.router.v3.Router"}}],
      "route_config": {"name": "r", "virtual_hosts": [{"name": "v", "domains": ["*"], "routes": routes}]}}}]}]}]}}
json.dump(cfg, open(f"{variant}-{n}.json", "w"))
