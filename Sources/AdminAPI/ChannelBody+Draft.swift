import EmailChannel
import ServiceDesk

extension ChannelBody {
    /// The mailbox this body describes, with the provider's server filled in where the body leaves it out: the one
    /// reading of a body, for `channel add` and `channel import` alike.
    func draft(projectKey: String) throws -> ChannelDraft {
        let preset = ProviderProfile.of(provider).server(for: self.protocol)
        guard let host = host ?? preset?.host, let port = port ?? preset?.port, let tls = tls ?? preset?.tls else {
            throw DeskError(
                .invalid, "a custom \(self.protocol.rawValue.uppercased()) server needs --host, --port and --tls")
        }
        return ChannelDraft(
            projectKey: projectKey, address: address, protocol: self.protocol, host: host, port: port, tls: tls,
            caFile: caFile, username: username, password: password, requestTypeName: requestType, provider: provider,
            extraAddresses: extraAddresses, authMethod: authMethod, insecurePlaintext: insecurePlaintext ?? false)
    }
}
