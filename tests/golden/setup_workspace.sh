#!/bin/bash
set -euxo pipefail
mkdir -p /home/workspace/demo
