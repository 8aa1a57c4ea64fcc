#!/usr/bin/env python3
"""A relying party that nobody on Keystead wrote the protocol of: authlib does OpenID
Connect (discovery, PKCE, the token requests, ID-token validation against the JWKS); this
script only orchestrates it for tests/browser/oidc.rs and prints one JSON line per step.

It runs its own loopback HTTP server at the redirect URI (and the post-logout redirect
URI), prints each URL the browser must open as a step with a "url", and waits for the
browser to come back. Anything that makes going on pointless (a state that does not
match, an ID token that does not validate) ends it with a step "error" and exit status 1;
everything else it reports and the Rust test judges.

    oidc_rp.py --issuer URL --client-id ID [--client-secret S] --redirect-uri URI
               [--post-logout-redirect-uri URI] [--scenario flow|prompt-none|no-pkce]
    oidc_rp.py --self-check

The client secret may come from OIDC_RP_CLIENT_SECRET instead of the command line.
Without a secret the client is public: token endpoint authentication `none`, PKCE S256.
"""
import argparse
import hashlib
import http.server
import json
import os
import sys
import threading
import time
import urllib.parse
import warnings

import requests  # noqa: E402
from authlib.deprecate import AuthlibDeprecationWarning  # noqa: E402

# authlib.jose warns that it moves to joserfc in authlib 2; it is the API pinned here.
warnings.simplefilter("ignore", AuthlibDeprecationWarning)
from authlib.common.security import generate_token  # noqa: E402
from authlib.integrations.requests_client import OAuth2Session  # noqa: E402
from authlib.jose import JsonWebKey, JsonWebToken  # noqa: E402
from authlib.oauth2.rfc7636 import create_s256_code_challenge  # noqa: E402
from authlib.oidc.core import CodeIDToken  # noqa: E402

SCOPE = "openid profile email offline_access"


def emit(step, **fields):
    print(json.dumps({"step": step, **fields}, sort_keys=True), flush=True)


class Failed(Exception):
    """A step after which going on makes no sense."""


def check(condition, message):
    if not condition:
        raise Failed(message)


# --- ID token validation (OpenID Connect Core 1.0 §3.1.3.7), all by authlib ---------


def validate_id_token(id_token, jwks, issuer, client_id, nonce, access_token=None, algs=("RS256",), now=None):
    """The ID token's header and claims once authlib validated it: signature by a key of
    the JWKS with one of `algs`, iss, aud (and azp), exp, iat, nonce, at_hash when present.
    Raises on any failure."""
    key_set = JsonWebKey.import_key_set(jwks)
    claims = JsonWebToken(list(algs)).decode(
        id_token,
        key_set,
        claims_cls=CodeIDToken,
        claims_options={
            "iss": {"essential": True, "value": issuer},
            "aud": {"essential": True, "value": client_id},
            "sub": {"essential": True},
            "exp": {"essential": True},
            "iat": {"essential": True},
            # A refreshed ID token need not carry the nonce (Core §12.2): then none is asked.
            "nonce": {"essential": nonce is not None, "value": nonce},
        },
        claims_params={"nonce": nonce, "client_id": client_id, "access_token": access_token},
    )
    claims.validate(now=now, leeway=5)
    return dict(claims.header), dict(claims)


# --- the loopback server the browser comes back to ------------------------------------


class Loopback:
    """http.server on the redirect URI's host and port; `wait(path)` returns the query of
    the first request to `path` (other requests, such as /favicon.ico, get a blank page)."""

    def __init__(self, redirect_uri):
        parts = urllib.parse.urlsplit(redirect_uri)
        check(parts.scheme == "http" and parts.hostname in ("127.0.0.1", "localhost"), "a loopback redirect URI")
        self.arrived = []
        self.cond = threading.Condition()
        loopback = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):
                url = urllib.parse.urlsplit(self.path)
                with loopback.cond:
                    loopback.arrived.append((url.path, urllib.parse.parse_qs(url.query, keep_blank_values=True)))
                    loopback.cond.notify_all()
                # No favicon to fetch: the relying party may be gone by the time it would be.
                body = b'<!doctype html><title>RP</title><link rel="icon" href="data:,"><p>The relying party got it.</p>'
                self.send_response(200)
                self.send_header("Content-Type", "text/html; charset=utf-8")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer((parts.hostname, parts.port or 80), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def wait(self, path, timeout):
        deadline = time.monotonic() + timeout
        with self.cond:
            while True:
                for i, (p, query) in enumerate(self.arrived):
                    if p == path:
                        del self.arrived[i]
                        # parse_qs gives lists; a repeated parameter is an error for OAuth.
                        return {k: v[0] if len(v) == 1 else v for k, v in query.items()}
                left = deadline - time.monotonic()
                check(left > 0, f"the browser did not come back to {path} within {timeout} s")
                self.cond.wait(left)


# --- the relying party -------------------------------------------------------------


class Rp:
    def __init__(self, args):
        self.args = args
        self.issuer = args.issuer
        self.client_id = args.client_id
        self.secret = args.client_secret or os.environ.get("OIDC_RP_CLIENT_SECRET") or None
        self.public = self.secret is None
        self.redirect_uri = args.redirect_uri
        self.loopback = Loopback(args.redirect_uri)
        self.responses = []

    def session(self, pkce=True):
        auth = "none" if self.public else "client_secret_basic"
        s = OAuth2Session(
            client_id=self.client_id,
            client_secret=self.secret,
            token_endpoint_auth_method=auth,
            revocation_endpoint_auth_method=auth,
            scope=SCOPE,
            redirect_uri=self.redirect_uri,
            code_challenge_method="S256" if pkce else None,
        )
        # Every response seen, for what authlib hides: status codes, headers, and whether a
        # refresh response really carried a new refresh token.
        s.hooks["response"].append(lambda r, *a, **k: self.responses.append(r))
        return s

    def last(self):
        r = self.responses[-1]
        try:
            body = r.json()
        except ValueError:
            body = None
        return r, body

    def discover(self):
        url = self.issuer.rstrip("/") + "/.well-known/openid-configuration"
        r = requests.get(url, timeout=30)
        check(r.status_code == 200, f"GET {url}: {r.status_code} {r.text[:300]}")
        config = r.json()
        # OpenID Connect Discovery 1.0 §4.3: the issuer must be exactly the one asked.
        check(config.get("issuer") == self.issuer, f"issuer {config.get('issuer')!r} is not {self.issuer!r}")
        for field in ("authorization_endpoint", "token_endpoint", "jwks_uri"):
            check(field in config, f"discovery lacks {field}")
        r = requests.get(config["jwks_uri"], timeout=30)
        check(r.status_code == 200, f"GET {config['jwks_uri']}: {r.status_code}")
        self.jwks = r.json()
        self.config = config
        emit(
            "discovery",
            config=config,
            jwks_kty=sorted({k.get("kty") for k in self.jwks.get("keys", [])}),
            jwks_alg=sorted({k.get("alg") for k in self.jwks.get("keys", []) if k.get("alg")}),
        )

    def authorize(self, round_, pkce=True, **extra):
        """Prints the authorization URL; the parameters the browser brings back."""
        s = self.session(pkce=pkce)
        state = generate_token(24)
        nonce = generate_token(24)
        verifier = generate_token(64) if pkce else None
        url, _ = s.create_authorization_url(
            self.config["authorization_endpoint"], state=state, code_verifier=verifier, nonce=nonce, **extra
        )
        emit("authorize", round=round_, url=url, state=state, nonce=nonce, pkce=pkce)
        params = self.loopback.wait(urllib.parse.urlsplit(self.redirect_uri).path, self.args.timeout)
        # RFC 6749 §4.1.2 and §10.12: the state comes back unchanged, on errors too.
        check(params.get("state") == state, f"state {params.get('state')!r} is not the one sent ({state!r})")
        if "iss" in params:  # RFC 9207, when the provider sends it
            check(params["iss"] == self.issuer, f"iss parameter {params['iss']!r}")
        emit("callback", round=round_, params=params)
        return s, params, nonce, verifier

    def exchange(self, round_, s, params, nonce, verifier):
        check("code" in params, f"no code in the redirect: {params}")
        token = s.fetch_token(
            self.config["token_endpoint"],
            grant_type="authorization_code",
            code=params["code"],
            code_verifier=verifier,
        )
        r, _ = self.last()
        emit(
            "token",
            round=round_,
            status=r.status_code,
            cache_control=r.headers.get("Cache-Control"),
            token_type=token.get("token_type"),
            scope=token.get("scope"),
            expires_in=token.get("expires_in"),
            has_refresh_token="refresh_token" in token,
            has_id_token="id_token" in token,
        )
        check("id_token" in token, "no id_token in the token response")
        header, claims = validate_id_token(
            token["id_token"],
            self.jwks,
            self.issuer,
            self.client_id,
            nonce,
            access_token=token.get("access_token"),
            algs=(self.args.alg,),
        )
        emit("id_token", round=round_, header=header, claims=claims)
        return token, claims

    def userinfo(self, s, token, id_claims):
        endpoint = self.config.get("userinfo_endpoint")
        check(endpoint, "discovery names no userinfo_endpoint")
        r = s.get(endpoint, headers={"Authorization": f"Bearer {token['access_token']}"}, timeout=30)
        body = r.json() if r.headers.get("Content-Type", "").startswith("application/json") else None
        # OpenID Connect Core 1.0 §5.3.2: the sub must be the ID token's.
        same_sub = body is not None and body.get("sub") == id_claims["sub"]
        emit("userinfo", status=r.status_code, claims=body, same_sub=same_sub)

    def refresh(self, s, refresh_token, step):
        """A refresh_token grant: (status, error, new refresh token or None, whether the
        response carried an ID token)."""
        try:
            s.refresh_token(self.config["token_endpoint"], refresh_token=refresh_token)
        except Exception as e:  # authlib's OAuthError carries the RFC 6749 error code
            r, body = self.last()
            error = getattr(e, "error", None) or (body or {}).get("error")
            emit(step, status=r.status_code, error=error, cache_control=r.headers.get("Cache-Control"))
            return r.status_code, error, None
        r, body = self.last()
        fresh = (body or {}).get("refresh_token")
        fields = dict(status=r.status_code, error=None, rotated=fresh is not None and fresh != refresh_token)
        if body and "id_token" in body:
            # OpenID Connect Core 1.0 §12.2: same iss, sub, aud; no nonce needed.
            _, claims = validate_id_token(body["id_token"], self.jwks, self.issuer, self.client_id, None)
            fields["id_token_sub"] = claims["sub"]
        emit(step, **fields)
        return r.status_code, None, fresh

    def revoke(self, s, token, hint, step):
        endpoint = self.config.get("revocation_endpoint")
        check(endpoint, "discovery names no revocation_endpoint")
        r = s.revoke_token(endpoint, token=token, token_type_hint=hint)
        emit(step, status=r.status_code, body=r.text[:300])

    def end_session(self, id_token):
        endpoint = self.config.get("end_session_endpoint")
        check(endpoint, "discovery names no end_session_endpoint")
        check(self.args.post_logout_redirect_uri, "--post-logout-redirect-uri is needed for logout")
        state = generate_token(24)
        query = urllib.parse.urlencode(
            {
                "id_token_hint": id_token,
                "post_logout_redirect_uri": self.args.post_logout_redirect_uri,
                "client_id": self.client_id,
                "state": state,
            }
        )
        sep = "&" if "?" in endpoint else "?"
        emit("end_session", url=f"{endpoint}{sep}{query}", state=state)
        path = urllib.parse.urlsplit(self.args.post_logout_redirect_uri).path
        params = self.loopback.wait(path, self.args.timeout)
        check(params.get("state") == state, f"logout state {params.get('state')!r} is not {state!r}")
        emit("logged_out", params=params)

    # --- scenarios -------------------------------------------------------------------

    def flow(self):
        self.discover()
        s, params, nonce, verifier = self.authorize(1)
        token, claims = self.exchange(1, s, params, nonce, verifier)
        self.userinfo(s, token, claims)
        check(token.get("refresh_token"), "no refresh_token although offline_access was asked")
        old = token["refresh_token"]
        _, _, new = self.refresh(s, old, "refresh")
        check(new, "the refresh gave no new refresh token")
        self.refresh(s, old, "reuse_old")
        self.refresh(s, new, "reuse_new")

        # A second authorization (the browser is signed in): a live refresh token to revoke.
        s, params, nonce, verifier = self.authorize(2)
        token, claims = self.exchange(2, s, params, nonce, verifier)
        check(token.get("refresh_token"), "no refresh_token in the second round")
        self.revoke(s, token["refresh_token"], "refresh_token", "revoke")
        self.refresh(s, token["refresh_token"], "revoked_refresh")
        # RFC 7009 §2.2: an invalid token is answered 200 too.
        self.revoke(s, "not-a-token-" + generate_token(16), "refresh_token", "revoke_unknown")

        self.end_session(token["id_token"])

    def prompt_none(self):
        self.discover()
        self.authorize(1, prompt="none")

    def no_pkce(self):
        self.discover()
        s, params, nonce, _ = self.authorize(1, pkce=False)
        if "code" in params:
            # The provider should have refused at the authorization endpoint; what does
            # its token endpoint make of the code without a verifier?
            try:
                s.fetch_token(self.config["token_endpoint"], grant_type="authorization_code", code=params["code"])
                emit("token_without_pkce", status=self.last()[0].status_code, error=None)
            except Exception as e:
                emit("token_without_pkce", status=self.last()[0].status_code, error=getattr(e, "error", str(e)))


# --- self-check: the validator rejects what it must (no provider needed) ---------------


def self_check():
    issuer, client, nonce = "https://op.example", "client-1", "n-0S6_WzA2Mj"
    key = JsonWebKey.generate_key("RSA", 2048, is_private=True, options={"kid": "k1"})
    other = JsonWebKey.generate_key("RSA", 2048, is_private=True, options={"kid": "k1"})
    jwks = {"keys": [key.as_dict(is_private=False)]}
    now = int(time.time())
    good = {"iss": issuer, "sub": "u1", "aud": client, "exp": now + 300, "iat": now, "nonce": nonce}

    def token(claims, signer=key, alg="RS256"):
        return JsonWebToken([alg]).encode({"alg": alg, "kid": "k1"}, claims, signer).decode()

    results = {}
    header, claims = validate_id_token(token(good), jwks, issuer, client, nonce)
    results["valid"] = claims["sub"] == "u1" and header["alg"] == "RS256"
    bad = {
        "wrong_nonce": (token(good), {"nonce": "other"}),
        "wrong_aud": (token({**good, "aud": "client-2"}), {}),
        "wrong_iss": (token({**good, "iss": "https://evil.example"}), {}),
        "expired": (token({**good, "exp": now - 60, "iat": now - 120}), {}),
        "missing_nonce": (token({k: v for k, v in good.items() if k != "nonce"}), {}),
        "other_key": (token(good, signer=other), {}),
        "hs256": (token(good, signer=b"x" * 32, alg="HS256"), {}),
    }
    for name, (jwt, overrides) in bad.items():
        try:
            validate_id_token(jwt, jwks, issuer, client, overrides.get("nonce", nonce))
            results[name] = False
        except Exception:
            results[name] = True
    # RFC 7636 Appendix B.
    verifier = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"
    results["pkce_s256"] = create_s256_code_challenge(verifier) == "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
    results["pkce_hashlib_agrees"] = (
        create_s256_code_challenge(verifier)
        == __import__("base64").urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    )
    import authlib

    ok = all(results.values())
    emit("self_check", ok=ok, results=results, authlib=authlib.__version__, requests=requests.__version__)
    return 0 if ok else 1


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--issuer")
    p.add_argument("--client-id")
    p.add_argument("--client-secret")
    p.add_argument("--redirect-uri")
    p.add_argument("--post-logout-redirect-uri")
    p.add_argument("--scenario", choices=["flow", "prompt-none", "no-pkce"], default="flow")
    p.add_argument("--alg", default="RS256", help="the ID token's expected signing algorithm")
    p.add_argument("--timeout", type=float, default=60.0, help="seconds to wait for the browser")
    p.add_argument("--self-check", action="store_true", help="check the validator offline and exit")
    args = p.parse_args()
    if args.self_check:
        return self_check()
    for name in ("issuer", "client_id", "redirect_uri"):
        if not getattr(args, name):
            p.error(f"--{name.replace('_', '-')} is required")
    step = "start"
    try:
        rp = Rp(args)
        step = args.scenario
        {"flow": rp.flow, "prompt-none": rp.prompt_none, "no-pkce": rp.no_pkce}[args.scenario]()
    except Exception as e:
        emit("error", during=step, kind=type(e).__name__, message=str(e)[:2000])
        return 1
    emit("done")
    return 0


if __name__ == "__main__":
    sys.exit(main())
