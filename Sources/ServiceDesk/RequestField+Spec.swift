import Foundation

extension RequestField {
    /// A field written as `NAME:visible|hidden:required|optional` (`request-type add --field`, the console's
    /// request-type form); nil when it is not of that shape.
    public init?(spec: String) {
        let parts = spec.trimmingCharacters(in: .whitespaces).split(separator: ":").map { $0.lowercased() }
        guard parts.count == 3, !parts[0].isEmpty, ["visible", "hidden"].contains(parts[1]),
            ["required", "optional"].contains(parts[2])
        else { return nil }
        self.init(name: parts[0], visible: parts[1] == "visible", required: parts[2] == "required")
    }

    /// The field in the `NAME:visible|hidden:required|optional` form.
    public var spec: String {
        "\(name):\(visible ? "visible" : "hidden"):\(required ? "required" : "optional")"
    }
}
