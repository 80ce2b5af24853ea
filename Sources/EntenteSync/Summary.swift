public import EntenteCore
public import EntenteWire
import Foundation

/// What a company already holds: for each origin replica, the highest sequence number n such that it holds
/// every envelope 1...n that replica addressed to it. A peer answers with exactly the envelopes above that.
public struct Summary: Hashable, Sendable {
    /// The format tag of the JSON form.
    public static let format = "entente-summary/1"
    /// The company the summary describes.
    public let company: CompanyID
    /// Per origin replica, the contiguous sequence held.
    public let held: [ReplicaID: UInt64]

    /// Creates a summary.
    public init(company: CompanyID, held: [ReplicaID: UInt64]) {
        self.company = company
        self.held = held
    }

    private struct JSONForm: Codable {
        var format: String
        var company: String
        var held: [String: UInt64]
    }

    /// The summary as JSON (what `entente summary` writes).
    public func json() -> String {
        let form = JSONForm(
            format: Self.format,
            company: company.hex,
            held: Dictionary(uniqueKeysWithValues: held.map { ($0.key.hex, $0.value) })
        )
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        guard let data = try? encoder.encode(form) else { return "{}" }
        return String(decoding: data, as: UTF8.self) + "\n"
    }

    /// Parses the JSON form.
    public init(json data: [UInt8]) throws(WireError) {
        guard data.count <= 16 << 20 else { throw WireError(.tooLarge, "summary file is over 16 MiB") }
        let form: JSONForm
        do { form = try JSONDecoder().decode(JSONForm.self, from: Data(data)) } catch {
            throw WireError(.malformed, "summary is not valid summary JSON (expected the output of `entente summary`)")
        }
        guard form.format == Self.format else {
            throw WireError(
                .unsupportedVersion,
                "summary format '\(form.format)' is not supported (expected \(Self.format))"
            )
        }
        guard let company = CompanyID(hex: form.company) else {
            throw WireError(.malformed, "summary's company id is not 32 hex digits")
        }
        var held: [ReplicaID: UInt64] = [:]
        for (key, value) in form.held {
            guard let replica = ReplicaID(hex: key) else {
                throw WireError(.malformed, "summary names an invalid replica id '\(key)'")
            }
            guard held.updateValue(value, forKey: replica) == nil else {
                throw WireError(.malformed, "summary names replica \(replica.short) twice")
            }
        }
        self.init(company: company, held: held)
    }
}
