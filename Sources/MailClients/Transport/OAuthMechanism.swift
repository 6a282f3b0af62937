/// Which SASL mechanism carries an OAuth 2.0 access token.
public enum OAuthMechanism: Sendable, Hashable {
    /// OAUTHBEARER when the server offers it, else XOAUTH2.
    case automatic
    /// XOAUTH2, Google's and Microsoft's mechanism (https://developers.google.com/gmail/imap/xoauth2-protocol).
    case xoauth2
    /// OAUTHBEARER, the standard mechanism (RFC 7628).
    case oauthBearer
}

/// The mechanism actually used for one login, once `OAuthMechanism.automatic` has been resolved.
enum SASLOAuthMechanism: Sendable, Hashable {
    case xoauth2
    case oauthBearer

    /// The SASL mechanism name as IMAP, POP3 and SMTP spell it (RFC 4422 §3.1, RFC 7628 §4).
    var name: String {
        switch self {
        case .xoauth2: "XOAUTH2"
        case .oauthBearer: "OAUTHBEARER"
        }
    }

    /// Resolves `requested` against the mechanisms the server offers (upper-cased names, e.g. from IMAP's
    /// `AUTH=` capabilities, POP3's CAPA SASL line or the EHLO AUTH keyword). `.automatic` prefers OAUTHBEARER.
    /// Throws `.authenticationMechanismUnsupported` naming what the server offers when nothing fits.
    static func choose(_ requested: OAuthMechanism, offered: [String]) throws -> SASLOAuthMechanism {
        let offeredSet = Set(offered.map { $0.uppercased() })
        let candidates: [SASLOAuthMechanism] =
            switch requested {
            case .automatic: [.oauthBearer, .xoauth2]
            case .xoauth2: [.xoauth2]
            case .oauthBearer: [.oauthBearer]
            }
        if let chosen = candidates.first(where: { offeredSet.contains($0.name) }) {
            return chosen
        }
        let wanted = candidates.map(\.name).joined(separator: " or ")
        let list = offered.isEmpty ? "none" : offered.map { $0.uppercased() }.joined(separator: " ")
        throw MailClientError(
            .authenticationMechanismUnsupported,
            "the credentials are an OAuth 2.0 access token for \(wanted), but the server does not offer it; "
                + "it offers: \(list)"
        )
    }
}
