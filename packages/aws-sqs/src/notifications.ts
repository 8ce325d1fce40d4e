/** One S3 object a notification announces. */
export interface ObjectRef {
  bucket: string;
  key: string;
  /** Another spelling to try when `key` does not exist (EventBridge: the URL-decoded key). */
  alternativeKey?: string;
  size?: number;
  eventName?: string;
}

export type Notification =
  | { kind: 'objects'; source: 's3' | 'sns' | 'eventbridge'; objects: ObjectRef[]; ignored: number }
  | { kind: 'test' }
  | { kind: 'invalid'; reason: string };

/** S3 keys in notifications are URL-encoded form-style: `+` is a space (Python's unquote_plus). */
export function decodeS3Key(key: string): string {
  const spaced = key.replace(/\+/g, ' ');
  try {
    return decodeURIComponent(spaced);
  } catch {
    // A lone '%' that is not an escape: decode what can be decoded, keep the rest.
    return spaced.replace(/(%[0-9a-fA-F]{2})+/g, (run) => {
      try {
        return decodeURIComponent(run);
      } catch {
        return run;
      }
    });
  }
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function fromS3Records(records: unknown[]): { objects: ObjectRef[]; ignored: number } {
  const objects: ObjectRef[] = [];
  let ignored = 0;
  for (const record of records) {
    if (!isObject(record)) {
      ignored++;
      continue;
    }
    const s3 = record['s3'];
    const eventName = typeof record['eventName'] === 'string' ? record['eventName'] : undefined;
    // Only object creation carries new data; removals, restores, replication events are acknowledged.
    // AWS omits the "s3:" prefix; some relays (and hand-made notifications) keep it.
    if (!isObject(s3) || (eventName !== undefined && !eventName.replace(/^s3:/, '').startsWith('ObjectCreated'))) {
      ignored++;
      continue;
    }
    const bucket = isObject(s3['bucket']) ? s3['bucket']['name'] : undefined;
    const object = isObject(s3['object']) ? s3['object'] : undefined;
    const key = object?.['key'];
    if (typeof bucket !== 'string' || typeof key !== 'string') {
      ignored++;
      continue;
    }
    const size = typeof object?.['size'] === 'number' ? (object['size'] as number) : undefined;
    objects.push({ bucket, key: decodeS3Key(key), ...(size !== undefined ? { size } : {}), ...(eventName ? { eventName } : {}) });
  }
  return { objects, ignored };
}

function classify(body: Record<string, unknown>, source: 's3' | 'sns'): Notification {
  if (body['Event'] === 's3:TestEvent') return { kind: 'test' };
  if (Array.isArray(body['Records'])) {
    const { objects, ignored } = fromS3Records(body['Records']);
    return { kind: 'objects', source, objects, ignored };
  }
  // EventBridge: {"source":"aws.s3","detail-type":"Object Created","detail":{"bucket":{"name"},"object":{"key"}}}
  if (body['source'] === 'aws.s3' && isObject(body['detail'])) {
    const detail = body['detail'];
    const detailType = body['detail-type'];
    if (typeof detailType === 'string' && detailType !== 'Object Created') return { kind: 'objects', source: 'eventbridge', objects: [], ignored: 1 };
    const bucket = isObject(detail['bucket']) ? detail['bucket']['name'] : undefined;
    const object = isObject(detail['object']) ? detail['object'] : undefined;
    const key = object?.['key'];
    if (typeof bucket !== 'string' || typeof key !== 'string') return { kind: 'invalid', reason: 'EventBridge event without detail.bucket.name / detail.object.key' };
    const decoded = decodeS3Key(key);
    const size = typeof object?.['size'] === 'number' ? (object['size'] as number) : undefined;
    // Whether EventBridge URL-encodes keys is not documented: try the key as sent first, then decoded.
    return {
      kind: 'objects',
      source: 'eventbridge',
      objects: [{ bucket, key, ...(decoded !== key ? { alternativeKey: decoded } : {}), ...(size !== undefined ? { size } : {}), eventName: 'Object Created' }],
      ignored: 0,
    };
  }
  return { kind: 'invalid', reason: 'neither Records, an s3:TestEvent nor an EventBridge S3 event' };
}

/** Reads an SQS message body: S3 notification, SNS-wrapped (raw delivery off) or EventBridge event. */
export function parseNotification(text: string): Notification {
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    return { kind: 'invalid', reason: 'the body is not JSON' };
  }
  if (!isObject(body)) return { kind: 'invalid', reason: 'the body is not a JSON object' };
  if (body['Type'] === 'Notification' && typeof body['Message'] === 'string') {
    let inner: unknown;
    try {
      inner = JSON.parse(body['Message']);
    } catch {
      return { kind: 'invalid', reason: 'the SNS Message is not JSON' };
    }
    if (!isObject(inner)) return { kind: 'invalid', reason: 'the SNS Message is not a JSON object' };
    return classify(inner, 'sns');
  }
  return classify(body, 's3');
}

/** direct_mode: the event is the body itself (the SNS Message when SNS wrapped it). */
export function directEvent(text: string): unknown {
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    return text;
  }
  if (isObject(body) && body['Type'] === 'Notification' && typeof body['Message'] === 'string' && typeof body['TopicArn'] === 'string') {
    const message = body['Message'];
    try {
      const inner = JSON.parse(message);
      return isObject(inner) ? inner : message;
    } catch {
      return message;
    }
  }
  return isObject(body) ? body : text;
}
