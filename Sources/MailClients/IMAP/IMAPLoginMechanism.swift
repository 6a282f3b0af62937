/// How `IMAPConnection.login` authenticates.
public enum IMAPLoginMechanism: Sendable, Hashable {
    /// AUTHENTICATE PLAIN when AUTH=PLAIN is offered, else LOGIN, else AUTHENTICATE LOGIN when the LOGIN
    /// command is disabled but AUTH=LOGIN is offered.
    case automatic
    /// AUTHENTICATE PLAIN (RFC 4616), with SASL-IR when offered (RFC 4959).
    case plain
    /// The LOGIN command (RFC 3501 §6.2.3).
    case login
    /// AUTHENTICATE LOGIN: the user name and password answer two base64 challenges (the SASL
    /// "LOGIN" mechanism, draft-murchison-sasl-login), for servers that offer it but not PLAIN.
    case saslLogin
}
