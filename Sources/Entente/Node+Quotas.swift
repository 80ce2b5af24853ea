import EntenteCore
import EntenteStore

/// What one partner's envelopes take on this node, against its storage quota.
public struct PartnerStorage: Hashable, Sendable {
    /// The partner.
    public let partner: Partner
    /// Envelopes held whose origin is this partner (received directly or relayed by anyone).
    public let envelopes: Int64
    /// Their bytes.
    public let bytes: Int64
    /// How many envelope bytes the partner may make this node hold.
    public let quota: Int64
    /// True if the quota was set for this partner; false if it is the node's default.
    public let isOwnQuota: Bool
}

extension Node {
    /// The storage quota of a partner for which neither a quota nor a node default was set: 10 GiB of
    /// envelopes (about 10 million field changes).
    public static let builtInStorageQuota: Int64 = 10 << 30

    /// What each partner's envelopes take here, against its quota (this company's own are not counted).
    public func storageUsage() throws(EntenteError) -> [PartnerStorage] {
        try reading { tx in
            let usage = try tx.usageByOrigin()
            let fallback = try tx.defaultQuota() ?? Self.builtInStorageQuota
            return try tx.companies().filter { !$0.isSelf }.map { company in
                let own = try tx.quota(of: company.id)
                let held = usage[company.id] ?? OriginUsage()
                return PartnerStorage(
                    partner: Partner(company: company.id, name: company.name, address: company.card.address, isSelf: false),
                    envelopes: held.envelopes,
                    bytes: held.bytes,
                    quota: own ?? fallback,
                    isOwnQuota: own != nil
                )
            }
        }
    }

    /// Sets how many envelope bytes `partner` may make this node hold (nil: back to the node's default). A
    /// quota below what it holds already keeps what is held and refuses what comes next.
    /// - Throws: `.invalidArgument` for a negative quota or this node's own company; `.unknownCompany`.
    public func setStorageQuota(_ bytes: Int64?, for partner: CompanyID) throws(EntenteError) {
        guard partner != company else {
            throw EntenteError(.invalidArgument, "this company's own envelopes have no quota")
        }
        if let bytes, bytes < 0 { throw EntenteError(.invalidArgument, "a quota cannot be negative") }
        let found = try transaction { tx in try tx.setQuota(bytes, of: partner) }
        guard found else { throw EntenteError(.unknownCompany, "company \(partner.short) is not a pinned partner") }
    }

    /// Sets the quota of every partner that has none of its own.
    /// - Throws: `.invalidArgument` for a negative quota.
    public func setDefaultStorageQuota(_ bytes: Int64) throws(EntenteError) {
        guard bytes >= 0 else { throw EntenteError(.invalidArgument, "a quota cannot be negative") }
        try transaction { tx in try tx.setDefaultQuota(bytes) }
    }
}

/// What each partner may still make this node store, during one import: its quota less what it holds, read
/// once per partner and charged envelope by envelope.
struct StorageAllowance {
    private var allowances: [CompanyID: (quota: Int64, left: Int64)] = [:]
    private var fallback: Int64?

    /// Charges an envelope of `bytes` from `origin`, or throws `.quotaExceeded` naming the partner and its quota.
    mutating func charge(_ bytes: Int, to origin: StoredCompany, _ tx: StoreTransaction) throws {
        guard !origin.isSelf else { return }
        var allowance: (quota: Int64, left: Int64)
        if let known = allowances[origin.id] {
            allowance = known
        } else {
            let fallback = try self.fallback ?? tx.defaultQuota() ?? Node.builtInStorageQuota
            self.fallback = fallback
            let quota = try tx.quota(of: origin.id) ?? fallback
            allowance = (quota, quota - (try tx.usage(of: origin.id).bytes))
        }
        guard Int64(bytes) <= allowance.left else {
            throw EntenteError(
                .quotaExceeded,
                "\(origin.name) has used its storage quota here (\(Self.describe(allowance.quota - allowance.left)) of "
                    + "\(Self.describe(allowance.quota)) held; this envelope is \(Self.describe(Int64(bytes)))); raise it "
                    + "with `entente partner quota \(origin.name) MEGABYTES`"
            )
        }
        allowance.left -= Int64(bytes)
        allowances[origin.id] = allowance
    }

    /// Bytes in MiB with one decimal, or in bytes below 1 MiB.
    static func describe(_ bytes: Int64) -> String {
        guard bytes >= 1 << 20 else { return "\(bytes) bytes" }
        let tenths = bytes * 10 / (1 << 20)
        return "\(tenths / 10).\(tenths % 10) MiB"
    }
}
