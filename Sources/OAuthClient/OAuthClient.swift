// OAuthClient owns the client side of OAuth 2.0 for postdesk: the token endpoint calls (device
// authorization grant, RFC 8628; authorization code with PKCE, RFC 6749 §4.1 and RFC 7636; refresh,
// RFC 6749 §6) over async-http-client, the reading of a provider's error answers into a diagnosis, and
// the loopback redirect listener of RFC 8252 §7.3 that the CLI's browser flow uses. It knows nothing
// of the store or of mailboxes.
