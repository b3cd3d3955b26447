// Package topics holds PubSubX's subscription trie (Trie), which answers
// "who receives a message published to this topic?", and the retained-message
// tree (Tree), which answers "which retained messages does this new
// subscription receive?".
//
// Topic names and filters are split into levels at '/'. Empty levels are real
// levels: "a//b" has three, "/a" has two, the first empty. In a filter, '+'
// matches exactly one level and '#' matches its parent level and every level
// below it ("a/#" matches "a", "a/b" and "a/b/c"). Topic names whose first
// character is '$' (such as "$SYS/broker/load") are not matched by filters
// that start with a wildcard [MQTT-4.7.2-1]; "$SYS/#" matches them.
//
// Precondition: every topic name and filter handed to this package has been
// validated by the caller (core/mqtt's ValidTopicName, ValidTopicFilter and
// ParseShared): names are non-empty and hold no wildcard, a '#' is only ever a
// filter's last level, '+' and '#' occupy whole levels, and a shared filter is
// "$share/{group}/{filter}" with a non-empty group. The package does not check
// again. Invalid input never panics or corrupts the structures; it only yields
// unspecified matches (for instance the filter "a/#/b" never matches, and a
// '+' level in a topic name is taken as ordinary text).
//
// Trie and Tree are safe for concurrent use. Values they return (a *Result
// from Trie.Match, the topic string given to a Tree.MatchFilter callback) are
// immutable and stay valid after later changes.
package topics
