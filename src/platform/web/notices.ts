/** What a page banner needs; the notices domain fills it, every page shows it. */
export interface Notice {
  message: string;
  icon: 'info' | 'warning' | 'error' | 'success';
  scope: 'global' | 'targeted';
}

export interface NoticeViewer {
  country: string | null;
  userTypes: string[];
}
