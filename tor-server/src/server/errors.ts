/** A refusal to send to the client as its reply line; the connection stays usable. */
export class ReplyError extends Error {
  readonly code = 'TOR_ERR_REPLY';
  /** The exact reply line. */
  readonly reply: string;
  constructor(reply: string) {
    super(reply);
    this.reply = reply;
  }
}

/** The transfer was cut and the byte stream is out of step: the connection must close. */
export class TransferCutError extends Error {
  readonly code = 'TOR_ERR_TRANSFER_CUT';
}
