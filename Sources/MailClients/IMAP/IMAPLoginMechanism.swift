/// How `IMAPConnection.login` authenticates.
public enum IMAPLoginMechanism: Sendable, Hashable {
    /// AUTHENTICATE PLAIN when AUTH=PLAIN is offered, else LOGIN (unless LOGINDISABLED).
    case automatic
    /// AUTHENTICATE PLAIN (RFC 4616), with SASL-IR when offered (RFC 4959).
    case plain
    /// The LOGIN command (RFC 3501 §6.2.3).
    case login
}
