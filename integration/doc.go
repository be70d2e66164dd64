// Package integration holds Quiver's end-to-end tests: the sqllogictest
// corpus (testdata/slt) run in-process and through Flight SQL, the 22 TPC-H
// queries checked against reference answers, and a test of the real
// `quiver serve` binary. The benchmark harness is in ./bench, the runner in
// ./slt. Nothing imports this package.
package integration
