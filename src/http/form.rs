//! HTML form bodies (`application/x-www-form-urlencoded`), read by name.
use super::Req;
use crate::crypto::secret::Secret;
use crate::error::Error;

/// The fields of a submitted form. No `Debug`: it may hold a password.
pub struct Form(Vec<(String, String)>);

impl Form {
    /// 415 unless the body is declared as a urlencoded form (what every page's form sends).
    pub fn parse(req: &Req) -> Result<Self, Error> {
        let declared = req.header("content-type").unwrap_or_default();
        let mime = declared.split(';').next().unwrap_or_default().trim();
        if !mime.eq_ignore_ascii_case("application/x-www-form-urlencoded") {
            return Err(Error::UnsupportedMediaType);
        }
        Ok(Self(form_urlencoded::parse(&req.body).into_owned().collect()))
    }

    /// A field's value, empty when absent; the first when repeated.
    pub fn text(&self, name: &str) -> &str {
        self.0.iter().find(|(n, _)| n == name).map_or("", |(_, v)| v.as_str())
    }

    /// Every value of a repeated field (checkboxes of one name), in order.
    pub fn all(&self, name: &str) -> Vec<&str> {
        self.0.iter().filter(|(n, _)| n == name).map(|(_, v)| v.as_str()).collect()
    }

    /// A field's value, None when absent or blank.
    pub fn optional(&self, name: &str) -> Option<&str> {
        Some(self.text(name)).filter(|v| !v.trim().is_empty())
    }

    /// Every field, in order.
    pub fn pairs(&self) -> &[(String, String)] {
        &self.0
    }

    /// A password field, as the core operations take it.
    pub fn secret(&self, name: &str) -> Secret {
        Secret::new(self.text(name).to_owned())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::http::Method;

    fn req(content_type: &str, body: &str) -> Req {
        let headers = vec![("content-type".to_owned(), content_type.to_owned())];
        Req::new(Method::Post, "/login", headers, body.as_bytes().to_vec(), None, None)
    }

    #[test]
    fn reads_fields_by_name() -> Result<(), Error> {
        let f = Form::parse(&req("application/x-www-form-urlencoded; charset=UTF-8", "email=a%40b.c&name=+&x=1&x=2"))?;
        assert_eq!(f.text("email"), "a@b.c");
        assert_eq!((f.text("x"), f.text("missing")), ("1", ""));
        assert_eq!((f.optional("name"), f.optional("x")), (None, Some("1")));
        assert_eq!((f.all("x"), f.all("missing")), (vec!["1", "2"], vec![]));
        assert_eq!(f.secret("email").expose(), "a@b.c");
        Ok(())
    }

    #[test]
    fn other_bodies_are_415() {
        for ct in ["application/json", "multipart/form-data; boundary=x", ""] {
            assert!(matches!(Form::parse(&req(ct, "a=1")), Err(Error::UnsupportedMediaType)), "{ct}");
        }
    }
}
