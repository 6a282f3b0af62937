import ServiceDesk

/// Project SD with a request type "Get help" fit for email (visible, required summary and
/// description): the starting point of every EmailChannel test.
func makeServiceDeskProject(in store: DeskStore, signup: SignupPolicy) async throws {
    _ = try await store.createProject(key: "SD", name: "Service Desk", signup: signup)
    _ = try await store.addRequestType(
        projectKey: "SD", name: "Get help",
        fields: [
            RequestField(name: "summary", visible: true, required: true),
            RequestField(name: "description", visible: true, required: true),
        ])
}
