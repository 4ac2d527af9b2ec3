// Command etcd is etcd's own server entry point, built from the Go module proxy.
//
// Why: `go install go.etcd.io/etcd/...` refuses etcd's modules (their go.mod files carry
// replace directives), and Debian's etcd is older than current apiservers accept.
package main

import (
	"os"

	"go.etcd.io/etcd/server/v3/etcdmain"
)

func main() {
	etcdmain.Main(os.Args)
}
