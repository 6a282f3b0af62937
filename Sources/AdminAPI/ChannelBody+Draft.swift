import EmailChannel
import ServiceDesk

extension ChannelBody {
    /// The mailbox this body describes, with the provider's server filled in where the body leaves it out: the one
    /// reading of a body, for `channel add` and `channel import` alike.
    func draft(projectKey: String) throws -> ChannelDraft {
        let isPush = self.protocol == .lmtp
        if isPush, host != nil || port != nil || tls != nil || provider != .custom {
            throw DeskError(
                .invalid,
                "a push channel (--protocol lmtp) has no server: leave out --provider, --host, --port and --tls")
        }
        let preset = ProviderProfile.of(provider).server(for: self.protocol)
        // Push delivery (LMTP): no server, no login, no password; the listener feeds the address.
        guard let host = isPush ? "" : host ?? preset?.host, let port = isPush ? 0 : port ?? preset?.port,
            let tls = isPush ? ServerTLS.none : tls ?? preset?.tls
        else {
            throw DeskError(
                .invalid, "a custom \(self.protocol.rawValue.uppercased()) server needs --host, --port and --tls")
        }
        return ChannelDraft(
            projectKey: projectKey, address: address, protocol: self.protocol, host: host, port: port, tls: tls,
            caFile: isPush ? nil : caFile, username: isPush ? "" : username, password: isPush ? "" : password,
            requestTypeName: requestType, provider: provider, extraAddresses: extraAddresses, authMethod: authMethod,
            insecurePlaintext: insecurePlaintext ?? false)
    }
}
