/**
 * The S3 requests a repository needs, async, with retries and one-line errors. Runs in the S3
 * agent thread (s3-agent.ts); the synchronous Backend reaches it through s3-bridge.ts.
 * RGW 16.2 quirks (reference/s3-ceph-notes.md): checksums only when required (RGW rejects the
 * aws-chunked trailers of the newer default), path style, IfMatch with the ETag unquoted, and
 * IfNoneMatch honoured on a single PUT only (so create-only guards are never multipart).
 */
import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListMultipartUploadsCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
  UploadPartCommand,
} from '@aws-sdk/client-s3';
import type { Readable } from 'node:stream';
import { CvError, corrupt } from '../../common/errors.js';
import { backoffMs, retryBudget, type S3Spec } from './s3-config.js';
import { announceRetry } from './s3-retries.js';
import type { ByteRange, ObjectInfo } from './types.js';

interface SdkError {
  name?: string;
  Code?: string;
  code?: string;
  message?: string;
  $metadata?: { httpStatusCode?: number };
  $retryable?: unknown;
}

const NET_CODES = new Set(['ECONNRESET', 'ECONNREFUSED', 'ETIMEDOUT', 'EPIPE', 'ENOTFOUND', 'EAI_AGAIN', 'ECONNABORTED', 'EHOSTUNREACH', 'ENETUNREACH', 'TimeoutError', 'RequestTimeout']);
const THROTTLE = new Set(['SlowDown', 'Throttling', 'ThrottlingException', 'RequestLimitExceeded', 'TooManyRequests', 'ServiceUnavailable', 'InternalError']);
const BAD_CREDS = new Set(['InvalidAccessKeyId', 'SignatureDoesNotMatch', 'AccessDenied', 'InvalidToken', 'ExpiredToken', 'CredentialsProviderError']);

const status = (e: SdkError) => e.$metadata?.httpStatusCode;
const codeOf = (e: SdkError) => e.Code ?? e.name ?? e.code ?? 'Error';
const netCode = (e: SdkError): string | undefined => {
  const c = e.code ?? (e as { cause?: { code?: string } }).cause?.code ?? e.name;
  return c && NET_CODES.has(c) ? c : undefined;
};

export function isRetryable(e: SdkError): boolean {
  const s = status(e);
  return netCode(e) !== undefined || (s !== undefined && (s >= 500 || s === 429)) || THROTTLE.has(codeOf(e));
}

/** What an operator reads: the endpoint, bucket and cause; never a key, secret, signature or header. */
export function describeS3Error(e: SdkError, spec: S3Spec, what: string, retries: number): CvError {
  const where = spec.endpoint ?? `AWS (${spec.region})`;
  const c = codeOf(e);
  const after = retries ? ` after ${retries} retries` : '';
  if (c === 'NoSuchBucket') return new CvError('NOT_FOUND', `S3 bucket ${spec.bucket} does not exist at ${where}`);
  if (BAD_CREDS.has(c) || status(e) === 403) {
    if (c === 'CredentialsProviderError') return new CvError('KEY', `no S3 credentials: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY`);
    return new CvError('KEY', `the S3 credentials were refused by ${where} (${c})`);
  }
  const net = netCode(e);
  if (net) return new CvError('IO', `S3 endpoint ${where} does not answer (${net})${after}: ${what}`);
  return new CvError('IO', `S3 ${what} failed at ${where}: ${c}${status(e) ? ` (HTTP ${status(e)})` : ''}${after}`);
}

/**
 * A response body streamed into `dst` (a read-ahead window's buffer, lent by the reader): the
 * SDK's transformToByteArray collects the chunks and copies them into a fresh zeroed array per GET.
 */
function bodyInto(body: Readable, dst: Uint8Array, where: string): Promise<Uint8Array> {
  // 'data' events hand over the socket's chunks as they come; async iteration (read()) concatenates
  // what is buffered first, one more copy.
  return new Promise((resolve, reject) => {
    let n = 0;
    body.on('data', (chunk: Buffer) => {
      if (n + chunk.byteLength > dst.byteLength) return body.destroy(corrupt(`${where}: the gateway sent more bytes than the range asked for`));
      dst.set(chunk, n);
      n += chunk.byteLength;
    });
    body.once('error', reject);
    body.once('end', () => resolve(dst.subarray(0, n)));
  });
}

export class S3Ops {
  readonly client: S3Client;
  private readonly budget: number;

  constructor(readonly spec: S3Spec) {
    this.budget = retryBudget();
    this.client = new S3Client({
      region: spec.region,
      forcePathStyle: spec.pathStyle,
      ...(spec.endpoint ? { endpoint: spec.endpoint } : {}),
      requestChecksumCalculation: 'WHEN_REQUIRED',
      responseChecksumValidation: 'WHEN_REQUIRED',
      // Our own retry loop counts and reports retries; the SDK's would hide them.
      maxAttempts: 1,
      requestHandler: { connectionTimeout: 5000, requestTimeout: 120_000 },
    });
  }

  key(name: string): string {
    return this.spec.prefix + name;
  }

  /** Runs one request with retries; `expect` turns an expected status (404, 412) into a value. */
  async run<T>(what: string, fn: () => Promise<T>, expect?: (e: SdkError) => T | undefined): Promise<T> {
    for (let attempt = 0; ; attempt++) {
      try {
        return await fn();
      } catch (err) {
        const e = err as SdkError;
        const v = expect?.(e);
        if (v !== undefined) return v;
        if (err instanceof CvError) throw err;
        if (!isRetryable(e) || attempt >= this.budget) throw describeS3Error(e, this.spec, what, attempt);
        announceRetry();
        await new Promise((r) => setTimeout(r, backoffMs(attempt)));
      }
    }
  }

  async stat(name: string): Promise<ObjectInfo | undefined> {
    const notThere = (e: SdkError) => (status(e) === 404 && codeOf(e) !== 'NoSuchBucket' ? null : undefined);
    const r = await this.run(`stat ${name}`, () => this.client.send(new HeadObjectCommand({ Bucket: this.spec.bucket, Key: this.key(name) })), notThere);
    return r === null ? undefined : { name, size: r.ContentLength ?? 0 };
  }

  /** Every object under `prefix` (paged past 1000 keys); '' lists the top level, "directories" as irregular. */
  async list(prefix: string): Promise<ObjectInfo[]> {
    const out: ObjectInfo[] = [];
    const base = this.spec.prefix;
    let token: string | undefined;
    do {
      const page = await this.run(`list ${prefix || '/'}`, () =>
        this.client.send(new ListObjectsV2Command({ Bucket: this.spec.bucket, Prefix: base + prefix, ...(prefix === '' ? { Delimiter: '/' } : {}), ...(token ? { ContinuationToken: token } : {}) })),
      );
      for (const o of page.Contents ?? []) out.push({ name: o.Key!.slice(base.length), size: o.Size ?? 0 });
      for (const p of page.CommonPrefixes ?? []) out.push({ name: p.Prefix!.slice(base.length).replace(/\/$/, ''), size: 0, irregular: 'directory' });
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token);
    return out.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  }

  /**
   * The object or a range of it, with its ETag (unquoted) and, for a range, the object's size
   * (from Content-Range); undefined when it does not exist. `short` accepts a range cut by the end.
   */
  async get(name: string, range?: ByteRange, short = false, into?: ArrayBuffer): Promise<{ bytes: Uint8Array; etag: string; size?: number } | undefined> {
    if (range && range.length === 0) return { bytes: new Uint8Array(0), etag: '' };
    const notThere = (e: SdkError) => (codeOf(e) === 'NoSuchKey' || (status(e) === 404 && codeOf(e) !== 'NoSuchBucket') ? null : undefined);
    const r = await this.run(
      `read ${name}`,
      async () => {
        const res = await this.client.send(new GetObjectCommand({ Bucket: this.spec.bucket, Key: this.key(name), ...(range ? { Range: `bytes=${range.offset}-${range.offset + range.length - 1}` } : {}) }));
        const total = /\/(\d+)$/.exec(res.ContentRange ?? '')?.[1];
        const bytes = into ? await bodyInto(res.Body as Readable, new Uint8Array(into), `${this.spec.root}/${name}`) : await res.Body!.transformToByteArray();
        return { bytes, etag: (res.ETag ?? '').replace(/"/g, ''), ...(total ? { size: Number(total) } : {}) };
      },
      (e) => (status(e) === 416 ? { bytes: new Uint8Array(0), etag: '' } : notThere(e)),
    );
    if (r === null) return undefined;
    if (range && r.bytes.byteLength !== range.length && !short) throw corrupt(`${this.spec.root}/${name}: bytes ${range.offset}..${range.offset + range.length} are past its end`);
    return r;
  }

  /** One PUT; create-only is If-None-Match: * (atomic on RGW), a replace guard is If-Match. Returns the ETag, or undefined on 412. */
  async put(name: string, body: Uint8Array, guard: { createOnly?: boolean; ifMatch?: string } = {}): Promise<string | undefined> {
    const r = await this.run(
      `write ${name}`,
      () =>
        this.client.send(
          new PutObjectCommand({ Bucket: this.spec.bucket, Key: this.key(name), Body: body, ContentLength: body.byteLength, ...(guard.createOnly ? { IfNoneMatch: '*' } : {}), ...(guard.ifMatch ? { IfMatch: guard.ifMatch } : {}) }),
        ),
      (e) => (status(e) === 412 || codeOf(e) === 'PreconditionFailed' ? null : undefined),
    );
    return r === null ? undefined : (r.ETag ?? '').replace(/"/g, '');
  }

  async remove(name: string): Promise<void> {
    await this.run(`remove ${name}`, () => this.client.send(new DeleteObjectCommand({ Bucket: this.spec.bucket, Key: this.key(name) })), (e) => (status(e) === 404 && codeOf(e) !== 'NoSuchBucket' ? null : undefined));
  }

  async startUpload(name: string): Promise<string> {
    const r = await this.run(`start upload of ${name}`, () => this.client.send(new CreateMultipartUploadCommand({ Bucket: this.spec.bucket, Key: this.key(name) })));
    return r.UploadId!;
  }

  async uploadPart(name: string, uploadId: string, part: number, body: Uint8Array): Promise<string> {
    const r = await this.run(`upload part ${part} of ${name}`, () =>
      this.client.send(new UploadPartCommand({ Bucket: this.spec.bucket, Key: this.key(name), UploadId: uploadId, PartNumber: part, Body: body, ContentLength: body.byteLength })),
    );
    return r.ETag!;
  }

  async completeUpload(name: string, uploadId: string, etags: string[]): Promise<void> {
    await this.run(`complete upload of ${name}`, () =>
      this.client.send(
        new CompleteMultipartUploadCommand({ Bucket: this.spec.bucket, Key: this.key(name), UploadId: uploadId, MultipartUpload: { Parts: etags.map((ETag, i) => ({ ETag, PartNumber: i + 1 })) } }),
      ),
    );
  }

  /** Aborts every multipart upload under the prefix started before `before` (ms); how many. */
  async abortUploadsBefore(before: number): Promise<number> {
    let n = 0;
    let marker: { KeyMarker?: string; UploadIdMarker?: string } = {};
    for (;;) {
      const page = await this.run('list multipart uploads', () => this.client.send(new ListMultipartUploadsCommand({ Bucket: this.spec.bucket, Prefix: this.spec.prefix, ...marker })));
      for (const u of page.Uploads ?? []) {
        if (!u.Key || !u.UploadId || !u.Initiated || u.Initiated.getTime() >= before) continue;
        await this.abortUpload(u.Key.slice(this.spec.prefix.length), u.UploadId);
        n++;
      }
      if (!page.IsTruncated) return n;
      marker = { ...(page.NextKeyMarker ? { KeyMarker: page.NextKeyMarker } : {}), ...(page.NextUploadIdMarker ? { UploadIdMarker: page.NextUploadIdMarker } : {}) };
    }
  }

  async abortUpload(name: string, uploadId: string): Promise<void> {
    await this.run(`abort upload of ${name}`, () => this.client.send(new AbortMultipartUploadCommand({ Bucket: this.spec.bucket, Key: this.key(name), UploadId: uploadId })), (e) => (status(e) === 404 ? null : undefined));
  }
}
