#!/bin/sh
# infra-new:ignore NOPE001 typo in the id
true
# infra-new:ignore CHK001
true
