//go:build !unix

package mailq

func (d dirFD) readExact(name string, buf []byte) (fileStat, []byte, error) { return d.read(name, buf) }
