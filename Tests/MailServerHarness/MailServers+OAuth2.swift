import Foundation

extension MailServers {
    /// Creates a mail user of the oauth2 passdb's domain: it has a home and a mailbox like any user, but logs in only
    /// with an access token that the introspection endpoint calls active for this user name.
    public func addOAuthUser(_ address: String) throws {
        guard let oauth2, address.lowercased().hasSuffix("@" + oauth2.domain.lowercased()) else {
            throw MailServerHarnessError(
                .invalidArgument, "\(address) is not in this instance's oauth2 domain (start it with oauth2:)")
        }
        // The passwd-file entry is for the userdb; its random password is never told to anyone, so the password
        // passdb refuses every password for this user.
        try addUser(address, password: UUID().uuidString)
    }
}
