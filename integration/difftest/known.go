package main

// known returns why a difference is expected (a MariaDB-vs-MySQL 8
// difference or a documented Quiver decision), "" when it is not.
func known(sql string, q, m result, diff string) string {
	return ""
}
