// Package iostreams owns the process's standard streams and decides, once and per stream,
// whether output is a terminal and whether it gets colour (--color, NO_COLOR, CLICOLOR,
// CLICOLOR_FORCE, TERM=dumb). Nothing else in hostfix asks os.Stdout about itself; tests
// swap in buffers with Test(). It does not format output (pkg/check and pkg/plan render)
// and it does not read or prompt (cmd's App.Confirm does).
package iostreams
