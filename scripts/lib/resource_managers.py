#!/usr/bin/env python3
"""The YARN ResourceManager addresses YARN's client would try, one HOST:PORT a line, from CONF_DIR's yarn-site.xml
(scripts/submit-cluster.sh asks them before a cluster-mode submission, as the driver does in client mode:
dev.sparkmnist.app.MasterCheck.resourceManagers has the same rules). With HA, each of yarn.resourcemanager.ha.rm-ids'
yarn.resourcemanager.address.ID, else its host name and port 8032; without, yarn.resourcemanager.address, else
yarn.resourcemanager.hostname (0.0.0.0 by default) and port 8032. Usage: resource_managers.py CONF_DIR"""
import os
import sys
import xml.etree.ElementTree as ET

RM_PORT = 8032


def properties(conf_dir):
    site = os.path.join(conf_dir, "yarn-site.xml")
    if not os.path.isfile(site):
        return {}
    props = {}
    for prop in ET.parse(site).getroot().iter("property"):
        name, value = prop.findtext("name"), prop.findtext("value")
        if name is not None and value is not None:
            props[name.strip()] = value.strip()
    return props


def resource_managers(props):
    addresses = []
    if props.get("yarn.resourcemanager.ha.enabled", "false").lower() == "true":
        for rm in [i.strip() for i in props.get("yarn.resourcemanager.ha.rm-ids", "").split(",") if i.strip()]:
            host = props.get("yarn.resourcemanager.hostname." + rm, "0.0.0.0")
            addresses.append(props.get("yarn.resourcemanager.address." + rm, "%s:%d" % (host, RM_PORT)))
    if not addresses:
        host = props.get("yarn.resourcemanager.hostname", "0.0.0.0")
        addresses.append(props.get("yarn.resourcemanager.address", "%s:%d" % (host, RM_PORT)))
    return addresses


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    try:
        print("\n".join(resource_managers(properties(sys.argv[1]))))
    except ET.ParseError as e:
        sys.exit("%s/yarn-site.xml does not parse: %s" % (sys.argv[1], e))
