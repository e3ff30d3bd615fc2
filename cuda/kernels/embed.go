//go:build cuda

package kernels

import (
	"embed"
	"strings"
)

//go:embed *.ptx
var files embed.FS

// PTX returns the embedded PTX of every module, by module name.
func PTX() (map[string]string, error) {
	out := map[string]string{}
	for name := range Modules {
		b, err := files.ReadFile(name + ".ptx")
		if err != nil {
			return nil, err
		}
		out[strings.TrimSuffix(name, ".ptx")] = string(b)
	}
	return out, nil
}
