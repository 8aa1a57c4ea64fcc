//! The accent colour: parsed from `--accent-color`, and the stylesheet that sets it for
//! both themes. The pages' CSP allows styles from 'self' only, so the colour reaches them
//! as a served file (`/assets/brand.css`), never as an inline style; the file holds only
//! the `#rrggbb` text this module writes, so nothing of the flag's value is pasted in.
//!
//! The accent is a link colour on the page's ground and the background of the header bar,
//! so each theme gets a variant that keeps WCAG AA contrast (4.5:1) against its ground:
//! darkened for the light theme, lightened for the dark one, with white or near-black
//! text on the bar, whichever reads better.

/// An sRGB colour.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rgb(pub u8, pub u8, pub u8);

/// The grounds of `assets/app.css` an accent must stand out from: the darker light one
/// (`--ground`) and the lighter dark one (`--paper`), the hardest case of each theme.
const LIGHT_GROUND: Rgb = Rgb(0xf4, 0xf6, 0xf9);
const DARK_GROUND: Rgb = Rgb(0x1b, 0x20, 0x29);
/// The two inks of the header bar (`--accent-ink` of app.css).
const WHITE: Rgb = Rgb(0xff, 0xff, 0xff);
const DARK_INK: Rgb = Rgb(0x0f, 0x16, 0x20);
/// WCAG AA for normal text.
const MIN_CONTRAST: f64 = 4.5;

impl Rgb {
    /// `#rgb` or `#rrggbb` (hex digits in either case); anything else is refused.
    pub fn parse(s: &str) -> Result<Self, String> {
        let bad = || "--accent-color must be a hex colour such as #1f4e79 or #27a".to_owned();
        let hex = s.strip_prefix('#').filter(|h| h.bytes().all(|b| b.is_ascii_hexdigit())).ok_or_else(bad)?;
        let digit = |i: usize| u8::from_str_radix(&hex[i..=i], 16).map_err(|_| bad());
        let pair = |i: usize| u8::from_str_radix(&hex[i..i + 2], 16).map_err(|_| bad());
        match hex.len() {
            3 => Ok(Rgb(digit(0)? * 17, digit(1)? * 17, digit(2)? * 17)),
            6 => Ok(Rgb(pair(0)?, pair(2)?, pair(4)?)),
            _ => Err(bad()),
        }
    }

    /// `#rrggbb`, lower case.
    pub fn hex(self) -> String {
        format!("#{:02x}{:02x}{:02x}", self.0, self.1, self.2)
    }

    /// Relative luminance (WCAG 2).
    fn luminance(self) -> f64 {
        let channel = |c: u8| {
            let c = f64::from(c) / 255.0;
            if c <= 0.039_28 { c / 12.92 } else { ((c + 0.055) / 1.055).powf(2.4) }
        };
        0.2126 * channel(self.0) + 0.7152 * channel(self.1) + 0.0722 * channel(self.2)
    }

    /// This colour moved `t` (0 to 1) of the way towards `to`.
    fn mix(self, to: Rgb, t: f64) -> Rgb {
        let m = |a: u8, b: u8| (f64::from(a) + (f64::from(b) - f64::from(a)) * t).round().clamp(0.0, 255.0) as u8;
        Rgb(m(self.0, to.0), m(self.1, to.1), m(self.2, to.2))
    }
}

/// The WCAG contrast ratio of two colours (1 to 21).
pub fn contrast(a: Rgb, b: Rgb) -> f64 {
    let (x, y) = (a.luminance(), b.luminance());
    (x.max(y) + 0.05) / (x.min(y) + 0.05)
}

/// The accent as given, or moved towards `towards` in small steps until it has
/// `MIN_CONTRAST` against `ground` (black and white always reach it).
fn readable_on(accent: Rgb, ground: Rgb, towards: Rgb) -> Rgb {
    (0..=20)
        .map(|step| accent.mix(towards, f64::from(step) / 20.0))
        .find(|c| contrast(*c, ground) >= MIN_CONTRAST)
        .unwrap_or(towards)
}

/// The ink of text on a bar of `accent`: white or near-black, whichever contrasts more.
fn ink_on(accent: Rgb) -> Rgb {
    if contrast(WHITE, accent) >= contrast(DARK_INK, accent) { WHITE } else { DARK_INK }
}

/// The stylesheet of an accent: the custom properties of app.css, for each theme.
pub fn stylesheet(accent: Rgb) -> String {
    let light = readable_on(accent, LIGHT_GROUND, Rgb(0, 0, 0));
    let dark = readable_on(accent, DARK_GROUND, WHITE);
    format!(
        "/* The operator's accent colour (--accent-color), adjusted per theme for contrast. */\n\
         :root {{ --accent: {}; --accent-ink: {}; }}\n\
         @media (prefers-color-scheme: dark) {{\n  :root {{ --accent: {}; --accent-ink: {}; }}\n}}\n",
        light.hex(),
        ink_on(light).hex(),
        dark.hex(),
        ink_on(dark).hex()
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hex_colours_parse_in_both_lengths_and_nothing_else() {
        assert_eq!(Rgb::parse("#1F4e79"), Ok(Rgb(0x1f, 0x4e, 0x79)));
        assert_eq!(Rgb::parse("#27a"), Ok(Rgb(0x22, 0x77, 0xaa)));
        assert_eq!(Rgb::parse("#27a").map(Rgb::hex), Ok("#2277aa".to_owned()));
        for bad in ["", "#", "red", "27a", "#27", "#27a2", "#1f4e7g", "red;}", "#fff;}body{", "#ffffff00", "#+1f4e7"] {
            assert!(Rgb::parse(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn every_accent_is_readable_in_both_themes() {
        let samples = ["#ffff00", "#000000", "#ffffff", "#1f4e79", "#e91e63", "#00ff00", "#777777", "#0000ff"];
        for given in samples {
            let accent = Rgb::parse(given).unwrap_or(Rgb(0, 0, 0));
            let light = readable_on(accent, LIGHT_GROUND, Rgb(0, 0, 0));
            let dark = readable_on(accent, DARK_GROUND, WHITE);
            assert!(contrast(light, LIGHT_GROUND) >= MIN_CONTRAST, "{given} light {}", light.hex());
            assert!(contrast(dark, DARK_GROUND) >= MIN_CONTRAST, "{given} dark {}", dark.hex());
            assert!(contrast(ink_on(light), light) >= MIN_CONTRAST, "{given} bar ink, light");
            assert!(contrast(ink_on(dark), dark) >= MIN_CONTRAST, "{given} bar ink, dark");
        }
        // An accent readable already is kept as given.
        assert_eq!(readable_on(Rgb(0x1f, 0x4e, 0x79), LIGHT_GROUND, Rgb(0, 0, 0)), Rgb(0x1f, 0x4e, 0x79));
        let css = stylesheet(Rgb(0x1f, 0x4e, 0x79));
        assert!(css.contains("--accent: #1f4e79; --accent-ink: #ffffff;"), "{css}");
    }
}
