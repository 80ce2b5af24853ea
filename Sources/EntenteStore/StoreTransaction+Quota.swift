package import EntenteCore
import EntenteWire
import Foundation
import GRDB

/// What one origin company's envelopes take in this store.
package struct OriginUsage: Hashable, Sendable {
    package var envelopes: Int64
    package var bytes: Int64

    package init(envelopes: Int64 = 0, bytes: Int64 = 0) {
        self.envelopes = envelopes
        self.bytes = bytes
    }
}

/// Storage quotas: how many envelope bytes each partner company may make this node hold (its own envelopes,
/// whoever relays them). Usage is kept by triggers on the envelope log (migration v4).
extension StoreTransaction {
    static let defaultQuotaKey = "partner_quota_default"

    /// Envelopes and bytes held from `company`.
    package func usage(of company: CompanyID) throws -> OriginUsage {
        guard
            let row = try row(
                sql: "SELECT envelopes, bytes FROM origin_usage WHERE company = ?",
                arguments: [Data(company.bytes)]
            )
        else { return OriginUsage() }
        return OriginUsage(envelopes: row[0], bytes: row[1])
    }

    /// Usage by every origin company with an envelope here, as kept by the triggers.
    package func usageByOrigin() throws -> [CompanyID: OriginUsage] {
        try usage(sql: "SELECT company, envelopes, bytes FROM origin_usage")
    }

    /// The usage recomputed from the envelope log (for `entente verify`).
    package func countedUsageByOrigin() throws -> [CompanyID: OriginUsage] {
        try usage(sql: "SELECT origin, count(*), sum(length(bytes)) FROM envelope GROUP BY origin")
    }

    /// Rows of (company, envelopes, bytes); malformed company ids are skipped.
    private func usage(sql: String) throws -> [CompanyID: OriginUsage] {
        var usage: [CompanyID: OriginUsage] = [:]
        for row in try rows(sql: sql) {
            if let company = CompanyID(bytes: row[0] as Data) {
                usage[company] = OriginUsage(envelopes: row[1], bytes: row[2])
            }
        }
        return usage
    }

    /// The quota set for `company`, or nil if it has the node's default (or is not pinned).
    package func quota(of company: CompanyID) throws -> Int64? {
        try row(sql: "SELECT quota_bytes FROM company WHERE id = ?", arguments: [Data(company.bytes)])?[0]
    }

    /// Sets (or, with nil, clears) `company`'s quota. Returns false if the company is not pinned.
    @discardableResult
    package func setQuota(_ bytes: Int64?, of company: CompanyID) throws -> Bool {
        try db.execute(
            sql: "UPDATE company SET quota_bytes = ? WHERE id = ?",
            arguments: [bytes, Data(company.bytes)]
        )
        return db.changesCount > 0
    }

    /// The node's default quota per partner, if one was set.
    package func defaultQuota() throws -> Int64? {
        guard let bytes = try meta(Self.defaultQuotaKey) else { return nil }
        var reader = ByteReader(bytes, what: "default quota")
        return Int64(bitPattern: try reader.readUInt64("bytes"))
    }

    /// Sets the node's default quota per partner.
    package func setDefaultQuota(_ bytes: Int64) throws {
        var writer = ByteWriter(capacity: 8)
        writer.writeUInt64(UInt64(bitPattern: bytes))
        try setMeta(Self.defaultQuotaKey, writer.bytes)
    }
}
