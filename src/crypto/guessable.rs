//! Guessable passwords: the blocklist checks of NIST SP 800-63B (§5.1.1.2), judged without
//! building anything in memory. A password is refused when, lower-cased, it is
//!
//! - a common password, word or name, or two of them run together, give or take digits and
//!   symbols at either end and the usual letter substitutions (`P@ssw0rd1`, `Summer2024!`);
//! - a repeat, a sequence or a keyboard walk for the most part (`aaaa…`, `abcabc…`, `4321…`,
//!   `qwertyuiop123`);
//! - little more than the account's own words (its email, its name) and such padding.
//!
//! The word list is zxcvbn's (zxcvbn-rs 3.1.1, MIT: its passwords, English Wikipedia, US
//! film and TV, first name and surname lists), lower-cased, words under three characters
//! dropped, de-duplicated and sorted by bytes, one per line. It is searched in place in the
//! binary's read-only data, so a check touches a few pages and allocates nothing that
//! stays. zxcvbn itself built its lists into hash maps that stayed resident from the first
//! check on: 7 MiB, more than a tenth of the server's memory budget during a login flood.
use std::cmp::Ordering;

const COMMON_WORDS: &str = include_str!("common_words.txt");

/// Shortest piece counted as a word when a password is cut in two or a context is removed.
const MIN_WORD: usize = 3;

/// Rows a walk or a sequence follows: the alphabet, digits and keyboard rows and columns.
const SEQUENCES: &[&str] = &[
    "abcdefghijklmnopqrstuvwxyz",
    "01234567890",
    "`1234567890-=",
    "qwertyuiop[]\\",
    "asdfghjkl;'",
    "zxcvbnm,./",
    "1qaz2wsx3edc4rfv5tgb6yhn7ujm8ik,9ol.0p;/-['=]",
    "qwertzuiop",
    "azertyuiop",
    "qsdfghjklm",
    "wxcvbn",
];

/// Why `password` is easy to guess, or `None`. `context` holds the account's own words.
pub fn weakness(password: &str, context: &[&str]) -> Option<&'static str> {
    let lower = password.to_lowercase();
    if is_pattern(&lower) {
        return Some("it is a repeat, a sequence or a keyboard pattern");
    }
    if is_common(&lower) {
        return Some("it is a common password, word or name");
    }
    if leans_on(&lower, context) {
        return Some("it is made of your email address or name");
    }
    None
}

/// A listed word, or two run together or around a little filler (`sunshine7rainbow`), once
/// padding is stripped and substitutions undone.
fn is_common(lower: &str) -> bool {
    readings(lower).iter().any(|r| listed(r) || two_words(r)) || two_words_around_filler(lower)
}

/// Two listed words (or one) with at most four digits or symbols between and around them.
fn two_words_around_filler(lower: &str) -> bool {
    let words: Vec<&str> = lower.split(|c: char| !c.is_alphabetic()).filter(|w| !w.is_empty()).collect();
    let filler = lower.chars().filter(|c| !c.is_alphabetic()).count();
    (1..=2).contains(&words.len()) && filler <= 4 && words.iter().all(|w| listed(w))
}

/// The ways a password may stand for a word: as typed, without padding and separators,
/// and with the usual substitutions undone (a `1` for an i or an l).
fn readings(lower: &str) -> [String; 4] {
    let core = lower.trim_matches(|c: char| !c.is_alphabetic());
    let joined: String = core.chars().filter(|c| !c.is_whitespace() && !"-_.".contains(*c)).collect();
    [lower.to_owned(), unleet(&joined, 'i'), unleet(&joined, 'l'), joined]
}

/// Undoes the common substitutions; `one` is the letter a `1` stands for (i or l).
fn unleet(s: &str, one: char) -> String {
    s.chars()
        .map(|c| match c {
            '4' | '@' => 'a',
            '8' => 'b',
            '(' | '{' | '[' | '<' => 'c',
            '3' => 'e',
            '6' | '9' => 'g',
            '1' | '!' | '|' => one,
            '0' => 'o',
            '$' | '5' => 's',
            '7' | '+' => 't',
            '%' => 'x',
            '2' => 'z',
            c => c,
        })
        .collect()
}

fn two_words(s: &str) -> bool {
    s.char_indices()
        .map(|(i, _)| i)
        .filter(|&i| i >= MIN_WORD && s.len() - i >= MIN_WORD)
        .any(|i| listed(&s[..i]) && listed(&s[i..]))
}

/// Whether `word` is a line of `COMMON_WORDS`: a binary search over the sorted text, on
/// byte offsets snapped to line boundaries.
fn listed(word: &str) -> bool {
    let text = COMMON_WORDS.as_bytes();
    let (mut lo, mut hi) = (0, text.len());
    // Invariant: lo is the start of a line and every line at or after hi sorts after `word`.
    while lo < hi {
        let mid = lo + (hi - lo) / 2;
        let start = text[lo..mid].iter().rposition(|&b| b == b'\n').map_or(lo, |i| lo + i + 1);
        let end = text[start..hi].iter().position(|&b| b == b'\n').map_or(hi, |i| start + i);
        match text[start..end].cmp(word.as_bytes()) {
            Ordering::Equal => return true,
            Ordering::Less => lo = end + 1,
            Ordering::Greater => hi = start,
        }
    }
    false
}

/// Mostly one character, a sequence or a walk: at most a quarter of the steps from one
/// character to the next are not a repeat or a move to a neighbour on some row; or the
/// whole is a short or common piece said again and again.
fn is_pattern(lower: &str) -> bool {
    let chars: Vec<char> = lower.chars().collect();
    let steps = chars.len().saturating_sub(1);
    let jumps = chars.windows(2).filter(|w| !predictable(w[0], w[1])).count();
    if jumps * 4 <= steps {
        return true;
    }
    (1..=chars.len() / 2).filter(|&n| chars.len() % n == 0).any(|n| {
        let unit = &chars[..n];
        chars.chunks(n).all(|chunk| chunk == unit) && (n <= 4 || is_common(&unit.iter().collect::<String>()))
    })
}

fn predictable(a: char, b: char) -> bool {
    a == b
        || SEQUENCES.iter().any(|row| {
            let row = row.as_bytes();
            row.windows(2).any(|w| (w[0] as char, w[1] as char) == (a, b) || (w[1] as char, w[0] as char) == (a, b))
        })
}

/// Little is left once the context's words (and the padding around them) are taken out.
fn leans_on(lower: &str, context: &[&str]) -> bool {
    let mut words: Vec<String> = Vec::new();
    for c in context {
        let c = c.to_lowercase();
        words.extend(c.split(|ch: char| !ch.is_alphanumeric()).filter(|w| w.len() >= MIN_WORD).map(str::to_owned));
        words.push(c);
    }
    // Longest first, so that a whole email goes before its parts.
    words.sort_by_key(|w| std::cmp::Reverse(w.len()));
    let mut rest = lower.to_owned();
    for w in words.iter().filter(|w| !w.is_empty()) {
        rest = rest.replace(w.as_str(), " ");
    }
    if rest == lower {
        return false;
    }
    // What is left must not be one listed word or a pattern; two words (`passphrase`)
    // beside the account's own are as many guesses as a three-word phrase.
    let left = rest.trim_matches(|c: char| !c.is_alphabetic());
    left.chars().filter(|c| c.is_alphabetic()).count() < 4
        || readings(left).iter().any(|r| listed(r))
        || is_pattern(left)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_list_is_sorted_and_every_line_is_found() {
        let lines: Vec<&str> = COMMON_WORDS.lines().collect();
        assert!(lines.len() > 90_000);
        assert!(lines.windows(2).all(|w| w[0] < w[1]), "sorted by bytes, no duplicates");
        for line in &lines {
            assert!(listed(line), "{line} not found");
            assert!(!listed(&format!("{line}\u{1}")), "{line} plus a byte was found");
        }
        for absent in ["", "a", "zzzzzzzzzzzz", "0000000000000000000", "\u{7f}", "correcthorsebatterystaple"] {
            assert!(!listed(absent), "{absent:?}");
        }
    }

    #[test]
    fn common_words_and_their_disguises_are_refused() {
        for weak in [
            "password123",
            "P@ssw0rd!",
            "Summer2024!",
            "123456789012",
            "iloveyou2024",
            "monkeydragon",
            "international",
            "dragon-master",
            "M1ssissippi99",
            "Elizabeth1985",
            "sunshine7rainbow",
            "dragon#24monkey",
        ] {
            assert!(weakness(weak, &[]).is_some(), "{weak} passed");
        }
    }

    #[test]
    fn repeats_sequences_and_walks_are_refused() {
        for weak in ["aaaaaaaaaaaaaaaa", "abcabcabcabc", "abcdefghijkl", "9876543210", "qwertyuiop123", "1qaz2wsx3edc"]
        {
            assert!(weakness(weak, &[]).is_some(), "{weak} passed");
        }
    }

    #[test]
    fn the_accounts_own_words_are_refused() {
        let context = ["ann.lee@example.test", "Test Owner"];
        for weak in
            ["ann.lee@example.test", "Test Owner 1", "annlee2024!!", "ExampleOwner", "testowner.test", "ann lee dragon"]
        {
            assert!(weakness(weak, &context).is_some(), "{weak} passed");
        }
        // The demo's logins: two words beside the account's own are a three-word phrase.
        assert_eq!(weakness("demo operator passphrase", &["operator@demo.test", "Demo Operator"]), None);
    }

    #[test]
    fn passphrases_and_random_strings_pass() {
        let context = ["ann@example.test", "Ann Lee"];
        for strong in [
            "correct horse battery staple",
            "Tr0ub4dor&3x",
            "Zq8#mV2!pX7k",
            "annual-kayak-orbit-mural",
            "gV7$kLp2QwZ9",
            "my cat eats paper at 5",
        ] {
            assert_eq!(weakness(strong, &context), None, "{strong} was refused");
        }
    }
}
