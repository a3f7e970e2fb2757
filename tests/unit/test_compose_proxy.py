"""docker-compose.yml runs the proxy configuration that tests/integration/test_proxy_nginx.py
starts here: the same file, every variable it names set, and replicas reachable only through it.
(Docker cannot run on these machines; this is what can be checked without it.)"""
from __future__ import annotations

import ipaddress
import re
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]
COMPOSE = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
TEMPLATE = ROOT / "deploy" / "nginx" / "groupipt.conf.template"


def test_the_proxy_mounts_the_tested_template_and_sets_each_of_its_variables():
    proxy = COMPOSE["services"]["proxy"]
    source, target, *_ = proxy["volumes"][0].split(":")
    assert (ROOT / source).resolve() == TEMPLATE
    # The nginx image renders templates/X.template to conf.d/X: default.conf replaces its stock site.
    assert target == "/etc/nginx/templates/default.conf.template"
    named = set(re.findall(r"\$\{(GROUPIPT_[A-Z0-9_]+)\}", TEMPLATE.read_text()))
    assert named and named == set(proxy["environment"])
    replicas = {proxy["environment"][name].split(":")[0] for name in named if name.startswith("GROUPIPT_REPLICA_")}
    assert replicas == {"app1", "app2"}


def test_replicas_are_reached_through_the_proxy_and_believe_only_it():
    services = COMPOSE["services"]
    proxy_address = ipaddress.ip_address(services["proxy"]["networks"]["default"]["ipv4_address"])
    subnet = ipaddress.ip_network(COMPOSE["networks"]["default"]["ipam"]["config"][0]["subnet"])
    assert proxy_address in subnet
    for name in ("app1", "app2"):
        app = services[name]
        assert "ports" not in app, f"{name} is published beside the proxy"
        trusted = app["environment"]["GROUPIPT_TRUSTED_PROXIES"]
        assert [ipaddress.ip_address(a) for a in trusted.split(",")] == [proxy_address]
        assert app["environment"]["GROUPIPT_SECRET_KEY"].startswith("${GROUPIPT_SECRET_KEY:?")
    assert services["proxy"]["ports"] == ["8000:8000"]
