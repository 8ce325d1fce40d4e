/** One event ready for the wire: the tag and the message text (a JSON-serialised vendor record, usually). */
export interface DeliveryRecord {
  tag: string;
  message: string;
  /** Event time for the syslog header; the send time when absent. */
  time?: Date;
}
