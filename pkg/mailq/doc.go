// Package mailq owns hostfix's model of an on-disk qmail queue: it validates the layout
// (split count and big-todo detected from disk), streams every message's state, envelope,
// size and age without holding message bodies, computes the queue statistics and the
// Nagios/Prometheus check, selects messages by filter, and plans a purge (stop qmail-send,
// wait for lock/sendmutex, remove every file of each selected message, always start qmail
// again). It reads the queue only: it must never remove files or run commands itself — a
// purge is a pkg/plan Plan that cmd hands to the apply layer.
package mailq
